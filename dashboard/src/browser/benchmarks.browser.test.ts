import { join } from 'node:path';
import type { Browser, Page, Response as PwResponse } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { RunningCoordinator } from '@coopfl/coordinator';
import type { AdminClient } from '@coopfl/coordinator/client';
import { cryptoReady } from '@coopfl/protocol';
import { KPI_IDS, formatKpi, kpi } from '@coopfl/protocol/benchmarks';
import { computeKpis, type ShopKpis } from '@coopfl/node/benchmarks';
import { startServe, type RunningServe } from '@coopfl/node/serve';
import type { TestNode } from '@coopfl/node/testing';
import {
  ADMIN,
  benchmarkNodes,
  dropTestNode,
  smallCooperative,
  testCoordinator,
  waitForRound,
} from '@coopfl/node/testing';
import { SHOTS, chromiumAvailable, launchChromium } from './chromium';
import { startDashboard, type RunningDashboard } from '../../dev-server';

/**
 * The benchmarks page in a real browser (Debian's Chromium through playwright-core) against a
 * real coordinator and six real member nodes over HTTP on 127.0.0.1. The member's own figures
 * travel from its node to its browser only: the test records every response the page receives
 * and checks that none carries another shop's value, and that the dashboard's own responses do
 * not carry the member's either.
 */
const available = chromiumAvailable('benchmarks browser suite');

const PERIODS = ['2024-02', '2024-03'];

/**
 * The exact JSON spellings of a shop's non-integer KPI values (`88.21428571428571`): a response
 * containing one carries that shop's figure (integers and short decimals could match by chance).
 */
const fingerprints = (k: ShopKpis) =>
  Object.values(k.values)
    .map((v) => JSON.stringify(v))
    .filter((s) => s.replace(/[^0-9]/g, '').length >= 8);

describe.skipIf(!available)('benchmarks page in Chromium', () => {
  let running: RunningCoordinator;
  let admin: AdminClient;
  let dash: RunningDashboard;
  let serve: RunningServe;
  let browser: Browser;
  const nodes: TestNode[] = [];
  /** Each shop's KPIs per period, in the clear (the test's truth; never sent anywhere). */
  const truth = new Map<TestNode, Map<string, ShopKpis>>();

  beforeAll(async () => {
    await cryptoReady();
    ({ running, admin } = await testCoordinator());
    const tables = smallCooperative({ shops: 6, customersPerShop: 40, days: 120, seed: 5 });
    nodes.push(...(await benchmarkNodes(running, admin, tables)));
    for (const t of nodes) {
      const byPeriod = new Map<string, ShopKpis>();
      for (const p of PERIODS) byPeriod.set(p, await computeKpis(t.node.db, p));
      truth.set(t, byPeriod);
    }
    await admin.benchmarks.setSettings.mutate({
      minContributors: 5,
      bins: 10,
      confidence: 0.95,
      dp: { mode: 'central', epsilonPerRun: 8, delta: 1e-5, epsilonBudget: 100 },
      stageTimeoutMs: 20_000,
    });
    // Two periods with DP (history), and the latest once more without (exact figures to check).
    for (const [period, dp] of [
      ['2024-02', 'central'],
      ['2024-03', 'central'],
      ['2024-03', 'off'],
    ] as const) {
      const started = await admin.benchmarks.run.mutate({
        period,
        dp,
        kpis: ['orders', 'average_order_value', 'repeat_purchase_rate', 'items_per_order'],
      });
      await Promise.all(nodes.map((t) => t.node.run({ once: true, channelPollMs: 200 })));
      const done = await waitForRound(admin, started.roundId);
      expect(done.status, done.error ?? '').toBe('done');
    }
    dash = await startDashboard({ coordinatorUrl: running.url, timeoutMs: 90_000 });
    const me = nodes[0]!;
    serve = await startServe({
      provider: () => Promise.resolve(undefined),
      benchmarks: (p) => me.node.benchmarks(p),
      corsOrigin: dash.url,
      port: 0,
    });
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await serve?.close();
    await dash?.close();
    for (const t of nodes) await dropTestNode(t);
    await running?.close();
  }, 60_000);

  it("a member sees its own value against the cooperative's; no response carries another shop's value", async () => {
    const me = nodes[0]!;
    const ctx = await browser.newContext({ viewport: { width: 1300, height: 1000 } });
    const page: Page = await ctx.newPage();
    page.setDefaultTimeout(60_000);
    onTestFailed(async () => {
      await page.screenshot({ path: join(SHOTS, 'failure-benchmarks.png'), fullPage: true });
    });
    const bodies: { url: string; body: string }[] = [];
    const reading: Promise<void>[] = [];
    page.on('response', (res: PwResponse) => {
      reading.push(
        res
          .text()
          .then((body) => void bodies.push({ url: res.url(), body }))
          .catch(() => undefined), // redirects and preflights have no body
      );
    });

    const link = await me.node.dashboardLink(dash.url);
    await page.goto(link.url);
    await page.waitForURL(/\/members\//);
    await page.getByRole('link', { name: 'Benchmarks', exact: true }).click();
    await page.getByRole('heading', { name: 'Benchmarks', level: 1 }).waitFor();
    await page.locator('body[data-hydrated="true"]').waitFor();
    // Nothing listens on the default port here: the page says so and how to start the node.
    await expect
      .poll(() => page.getByTestId('node-state').textContent())
      .toMatch(/did not answer.*pnpm coopfl-node serve/);

    await page.getByLabel("Your node's address").fill(serve.url);
    await page.getByRole('button', { name: 'Read from my node' }).click();
    await expect
      .poll(() => page.getByTestId('node-state').textContent())
      .toMatch(/read by this browser/);

    // The exact run (no DP) of the latest period: the page's figures are the released ones.
    const published = await admin.benchmarks.published.query({ period: '2024-03' });
    const exact = published.find((r) => r.dp.mode === 'off')!;
    // The newest run is shown first.
    expect(await page.getByLabel('Benchmark run').inputValue()).toBe(exact.roundId);
    await page.getByLabel('Benchmark run').selectOption(exact.roundId);
    const mine = truth.get(me)!.get('2024-03')!;
    for (const id of ['average_order_value', 'repeat_purchase_rate'] as const) {
      const rel = exact.kpis.find((k) => k.kpi === id)!;
      expect(rel.status).toBe('released');
      await expect
        .poll(() => page.getByTestId(`own-${id}`).textContent())
        .toContain(formatKpi(id, mine.values[id]));
      expect(await page.getByTestId(`coop-${id}`).textContent()).toContain(formatKpi(id, rel.mean));
      expect(await page.getByTestId(`quarter-${id}`).textContent()).toMatch(
        /(bottom|second|third|top) quarter/,
      );
    }
    // The DP run shows its uncertainty.
    const noisy = published.find((r) => r.dp.mode === 'central')!;
    await page.getByLabel('Benchmark run').selectOption(noisy.roundId);
    await expect
      .poll(() => page.getByTestId('run-summary').textContent())
      .toMatch(/central differential privacy, ε [\d.]+ per shop · intervals at 95% confidence/);
    const aov = noisy.kpis.find((k) => k.kpi === 'average_order_value')!;
    if (aov.status === 'released') {
      expect(await page.getByTestId('coop-average_order_value').textContent()).toContain(
        `${formatKpi('average_order_value', aov.meanInterval![0])} to`,
      );
    }
    // A mean whose interval spans most of the KPI's range is flagged, not presented as a figure.
    const orders = noisy.kpis.find((k) => k.kpi === 'orders')!;
    const [lo, hi] = kpi('orders').range;
    if (orders.meanInterval && orders.meanInterval[1] - orders.meanInterval[0] > (hi - lo) / 2) {
      await page.getByTestId('noisy-orders').waitFor();
    }
    // History over both periods, plotted.
    await page.getByLabel('KPI', { exact: true }).selectOption('orders');
    await page.locator('canvas').first().waitFor();
    await page.waitForTimeout(500); // Chart.js draws on the next frame
    await page.screenshot({ path: join(SHOTS, 'benchmarks.png'), fullPage: true });
    const figures = await page.locator('details', { hasText: 'Orders: the figures' }).textContent();
    expect(figures).toContain('period 2024-02');
    expect(figures).toContain('period 2024-03');
    expect(figures).toMatch(/You: period 2024-02: [\d.]+; period 2024-03/);

    await Promise.all(reading);
    expect(bodies.length).toBeGreaterThan(3);
    const fromNode = bodies.filter((b) => b.url.startsWith(serve.url));
    expect(fromNode.length).toBeGreaterThan(0);
    const others = nodes.slice(1).flatMap((t) => [...truth.get(t)!.values()].flatMap(fingerprints));
    expect(others.length).toBeGreaterThan(5);
    for (const { url, body } of bodies) {
      for (const f of others) expect(body.includes(f), `${url} carries ${f}`).toBe(false);
    }
    // The member's own figures come from its node only, never through the dashboard's server.
    const own = [...truth.get(me)!.values()].flatMap(fingerprints);
    expect(own.length).toBeGreaterThan(0);
    expect(fromNode.some((b) => own.some((f) => b.body.includes(f)))).toBe(true);
    for (const { url, body } of bodies.filter((b) => b.url.startsWith(dash.url))) {
      for (const f of own) expect(body.includes(f), `${url} carries ${f}`).toBe(false);
    }
    await ctx.close();
  }, 240_000);

  it('the admin runs a benchmark from the page, watches its round, and finds the run published', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1300, height: 1000 } });
    const page = await ctx.newPage();
    page.setDefaultTimeout(60_000);
    onTestFailed(async () => {
      await page.screenshot({ path: join(SHOTS, 'failure-benchmarks-admin.png'), fullPage: true });
    });
    await page.goto(`${dash.url}/login`);
    await page.locator('body[data-hydrated="true"]').waitFor();
    await page.getByLabel('Username').fill(ADMIN.username);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByRole('link', { name: 'Benchmarks', exact: true }).click();
    await page.getByRole('heading', { name: 'Run a benchmark' }).waitFor();
    await page.locator('body[data-hydrated="true"]').waitFor();
    const before = await page.getByLabel('Benchmark run').locator('option').count();

    await page.getByLabel('Period', { exact: true }).fill('2024-13');
    await page.getByRole('button', { name: 'Run benchmark' }).click();
    await page.getByText('a month (2026-10), a quarter (2026-Q4) or a year (2026)').waitFor();

    await page.getByLabel('Period', { exact: true }).fill('2024-02');
    for (const label of ['Revenue', '90-day retention', 'Fraud model PR-AUC']) {
      await page.getByRole('checkbox', { name: label, exact: true }).uncheck();
    }
    await page.getByLabel('Differential privacy').selectOption('off');
    await page.getByRole('button', { name: 'Run benchmark' }).click();
    await page.waitForURL(/\/rounds\/[^/]+$/);
    await Promise.all(nodes.map((t) => t.node.run({ once: true, channelPollMs: 200 })));
    await expect
      .poll(() => page.getByTestId('round-outcome').textContent(), { timeout: 60_000 })
      .toMatch(/released/);

    await page.getByRole('link', { name: 'benchmarks', exact: true }).click();
    await page.getByRole('heading', { name: 'Benchmarks', level: 1 }).waitFor();
    expect(await page.getByLabel('Benchmark run').locator('option').count()).toBe(before + 1);
    const runs = await admin.benchmarks.published.query({ period: '2024-02' });
    const mine = runs.find((r) => r.dp.mode === 'off')!;
    expect(mine.kpis.map((k) => k.kpi)).toHaveLength(KPI_IDS.length - 3);
    expect(mine.kpis.map((k) => k.kpi)).not.toContain('revenue');
    await page.screenshot({ path: join(SHOTS, 'benchmarks-admin.png'), fullPage: true });
    await ctx.close();
  }, 180_000);
});
