import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cryptoReady } from '@coopfl/protocol';
import type { KpiId, KpiRelease } from '@coopfl/protocol/benchmarks';
import {
  KPI_IDS,
  binOf,
  formatKpi,
  kpi,
  quantilesFromHistogram,
} from '@coopfl/protocol/benchmarks';
import type { RunningCoordinator } from '@coopfl/coordinator';
import type { AdminClient } from '@coopfl/coordinator/client';
import type { TestNode } from '../runtime/testing';
import {
  benchmarkNodes,
  dropTestNode,
  smallCooperative,
  testCoordinator,
  waitForRound,
} from '../runtime/testing';
import { describeBenchmarks } from '../cli/benchmark';
import { createServeApp } from '../serve/app';
import type { ShopKpis } from './kpis';
import { computeKpis } from './kpis';

/**
 * Shared KPI benchmarks end to end: a coordinator and ten member nodes, each with its own store,
 * over real HTTP on 127.0.0.1. Each node computes its KPIs itself; the test computes the same
 * figures in the clear from every store and checks what the coordinator publishes against them.
 */
const PERIOD = '2024-03';
const BINS = 10;
let running: RunningCoordinator;
let admin: AdminClient;
const nodes: TestNode[] = [];
/** Each shop's KPIs in the clear (the test's plaintext truth; never sent anywhere). */
const truth = new Map<TestNode, ShopKpis>();

const runOnce = (t: TestNode) =>
  t.node.run({ once: true, channelPollMs: 200, onEvent: (e) => t.events.push(e) });

async function benchmark(input: Parameters<AdminClient['benchmarks']['run']['mutate']>[0]) {
  const started = await admin.benchmarks.run.mutate(input);
  await Promise.all(nodes.map(runOnce));
  const done = await waitForRound(admin, started.roundId);
  expect(done.status, done.error ?? '').toBe('done');
  const [run] = (await admin.benchmarks.published.query({ period: PERIOD })).filter(
    (r) => r.roundId === started.roundId,
  );
  expect(run).toBeDefined();
  return { started, run: run! };
}

/** The noise-free statistics of one KPI over the given shops (values clamped to the range). */
function plaintext(id: KpiId, shops: readonly TestNode[]) {
  const k = kpi(id);
  const [lo, hi] = k.range;
  const values = shops
    .map((t) => truth.get(t)!.values[id])
    .filter((v): v is number => v !== undefined);
  const clamped = values.map((v) => Math.min(hi, Math.max(lo, v)));
  const histogram = new Array<number>(BINS).fill(0);
  for (const v of values) histogram[binOf(k, BINS, v)]!++;
  return {
    count: values.length,
    mean: clamped.reduce((a, v) => a + v, 0) / Math.max(values.length, 1),
    histogram,
  };
}

const releaseOf = (run: { kpis: KpiRelease[] }, id: KpiId) => run.kpis.find((r) => r.kpi === id)!;

beforeAll(async () => {
  await cryptoReady();
  ({ running, admin } = await testCoordinator());
  const tables = smallCooperative({ shops: 10, customersPerShop: 40, days: 120, seed: 23 });
  nodes.push(...(await benchmarkNodes(running, admin, tables)));
  for (const t of nodes) truth.set(t, await computeKpis(t.node.db, PERIOD));
  await admin.benchmarks.setSettings.mutate({
    minContributors: 5,
    bins: BINS,
    confidence: 0.95,
    dp: { mode: 'central', epsilonPerRun: 2, delta: 1e-5, epsilonBudget: 100 },
    stageTimeoutMs: 20_000,
  });
}, 240_000);

afterAll(async () => {
  for (const t of nodes) await dropTestNode(t);
  await running?.close();
}, 60_000);

describe('benchmark runs', () => {
  it('DP off: the published figures are the plaintext cooperative statistics', async () => {
    const { started, run } = await benchmark({ period: PERIOD, dp: 'off' });
    expect(started.cohort).toBe(10);
    expect(run.peerGroup).toBe('cooperative');
    let released = 0;
    for (const id of KPI_IDS) {
      const r = releaseOf(run, id);
      const p = plaintext(id, nodes);
      if (p.count < 5) {
        expect(r.status).toBe('withheld');
        continue;
      }
      released++;
      const [lo, hi] = kpi(id).range;
      expect(r.status, id).toBe('released');
      expect(r.contributors, id).toBe(p.count);
      // Fixed-point secure aggregation: exact up to ~1e-8 of the range per member.
      expect(Math.abs(r.mean! - p.mean), id).toBeLessThan((hi - lo) * 1e-6);
      r.histogram.forEach((c, i) => expect(c).toBeCloseTo(p.histogram[i]!, 5));
      expect(r.meanInterval![1] - r.meanInterval![0]).toBeLessThan((hi - lo) * 1e-6);
    }
    // The shops' order data gives every order KPI; the models' KPIs need trained models.
    expect(released).toBeGreaterThanOrEqual(8);
    for (const id of ['forecast_error', 'recommendation_ndcg', 'fraud_pr_auc'] as const) {
      expect(releaseOf(run, id).reason).toMatch(/minimum is 5 \(minContributors\)/);
    }
  }, 180_000);

  it('a shop that withholds consent for a KPI contributes nothing to it', async () => {
    const [a] = nodes as [TestNode];
    await a.node.consent.set({ kpis: KPI_IDS.filter((k) => k !== 'average_order_value') });
    try {
      const { run } = await benchmark({
        period: PERIOD,
        dp: 'off',
        kpis: ['average_order_value', 'orders'],
      });
      const others = nodes.filter((t) => t !== a);
      const aov = releaseOf(run, 'average_order_value');
      expect(aov.contributors).toBe(plaintext('average_order_value', others).count);
      expect(aov.mean).toBeCloseTo(plaintext('average_order_value', others).mean, 3);
      expect(aov.mean).not.toBeCloseTo(plaintext('average_order_value', nodes).mean, 3);
      // Its other KPIs still count.
      expect(releaseOf(run, 'orders').contributors).toBe(10);
      expect(releaseOf(run, 'orders').mean).toBeCloseTo(plaintext('orders', nodes).mean, 2);
    } finally {
      await a.node.consent.set({ kpis: [...KPI_IDS] });
    }
  }, 180_000);

  it('a peer group below the minimum is not released, and the error names the rule', async () => {
    // Nodes decide membership themselves: the coordinator runs the round, then withholds.
    const bands = nodes.map((t) => truth.get(t)!.attributes.sizeBand);
    const rare = (['small', 'medium', 'large'] as const).find(
      (b) => bands.filter((x) => x === b).length < 5,
    )!;
    const { run } = await benchmark({
      period: PERIOD,
      dp: 'off',
      kpis: ['orders'],
      peerGroup: { sizeBand: rare },
    });
    expect(run.peerGroup).toBe(`size ${rare}`);
    const r = releaseOf(run, 'orders');
    expect(r).toMatchObject({ status: 'withheld', mean: null, histogram: [] });
    expect(r.contributors).toBe(bands.filter((x) => x === rare).length);
    expect(r.reason).toMatch(/the minimum is 5 \(minContributors\)/);
    // Asking for more contributors than the cooperative has is refused before any round starts.
    await expect(
      admin.benchmarks.run.mutate({ period: PERIOD, minContributors: 11 }),
    ).rejects.toThrow(/10 members could contribute.*below 11 contributors \(minContributors\)/);
  }, 180_000);

  it('central DP: figures stay within their stated intervals, and each member is charged ε', async () => {
    await admin.benchmarks.setSettings.mutate({
      minContributors: 5,
      bins: BINS,
      // A higher confidence than the default keeps this test's failure rate below 1 in 10⁴.
      confidence: 0.99999,
      dp: { mode: 'central', epsilonPerRun: 20, delta: 1e-5, epsilonBudget: 100 },
      stageTimeoutMs: 20_000,
    });
    const ids = ['orders', 'average_order_value', 'repeat_purchase_rate'] as const;
    const { run } = await benchmark({ period: PERIOD, kpis: [...ids] });
    expect(run.dp.mode).toBe('central');
    // Calibrated to at most the ε asked for (the ledger's accountant is the tighter of the two).
    expect(run.dp.epsilon).toBeGreaterThan(10);
    expect(run.dp.epsilon).toBeLessThanOrEqual(20);
    for (const id of ids) {
      const r = releaseOf(run, id);
      expect(r.noiseSd).toBeGreaterThan(0);
      if (r.status !== 'released') continue;
      const p = plaintext(id, nodes);
      expect(r.meanInterval![0]).toBeLessThanOrEqual(p.mean);
      expect(r.meanInterval![1]).toBeGreaterThanOrEqual(p.mean);
      const clean = quantilesFromHistogram(p.histogram, r.edges, [0.25, 0.5, 0.75], kpi(id).scale);
      r.quartileIntervals!.forEach(([lo, hi], i) => {
        expect(lo).toBeLessThanOrEqual(clean[i]!);
        expect(hi).toBeGreaterThanOrEqual(clean[i]!);
      });
    }
    const ledger = await admin.privacy.ledger.query({});
    const charged = ledger.filter((e) => e.modelId === 'benchmarks' && e.roundId === run.roundId);
    expect(charged).toHaveLength(10);
    for (const t of nodes) {
      const own = (await t.node.status()).privacy.find((x) => x.modelId === 'benchmarks');
      const theirs = charged.find((e) => e.memberId === t.node.memberId)!;
      expect(own?.epsilon).toBeCloseTo(theirs.epsilon, 6);
    }
    // The privacy page's summary shows the benchmark account beside the models, with its budget.
    const [first] = nodes as [TestNode];
    const summary = await admin.dashboard.privacy.query({ memberId: first.node.memberId });
    expect(summary.find((r) => r.modelId === 'benchmarks')).toMatchObject({
      dpMode: 'central',
      budget: 100,
      spent: charged.find((e) => e.memberId === first.node.memberId)!.epsilon,
    });
  }, 180_000);
});

describe('a shop reads its own benchmarks from its node', () => {
  const DASHBOARD = 'http://dashboard.test:5173';
  const TOKEN = 'serve-secret';
  const appOf = (t: TestNode) =>
    createServeApp({
      provider: () => Promise.resolve(undefined),
      benchmarks: (p) => t.node.benchmarks(p),
      corsOrigin: `${DASHBOARD}/members/x`,
      token: TOKEN,
    });

  it('own values beside every published run of the period, with the groups the shop is in', async () => {
    const [a] = nodes as [TestNode];
    const b = await a.node.benchmarks(PERIOD);
    expect(b.memberId).toBe(a.node.memberId);
    expect(b.own).toHaveLength(1);
    expect(b.own[0]!.values).toEqual(truth.get(a)!.values);
    const published = await admin.benchmarks.published.query({ period: PERIOD });
    expect(b.published.map((r) => r.roundId)).toEqual(published.map((r) => r.roundId));
    const band = truth.get(a)!.attributes.sizeBand;
    expect(b.own[0]!.peerGroups).toContain('cooperative');
    expect(b.own[0]!.peerGroups.includes(`size ${band}`)).toBe(
      published.some((r) => r.peerGroup === `size ${band}`),
    );
    // Without a period: every published period (here one).
    expect((await a.node.benchmarks()).own.map((o) => o.period)).toEqual([PERIOD]);
    await expect(a.node.benchmarks('2024-13')).rejects.toThrow(/period must be a month/);

    const text = describeBenchmarks(b);
    const dpOff = b.published.find((r) => r.dp.mode === 'off' && r.peerGroup === 'cooperative')!;
    const orders = dpOff.kpis.find((r) => r.kpi === 'orders')!;
    expect(text).toContain(formatKpi('orders', truth.get(a)!.values.orders));
    expect(text).toContain(formatKpi('orders', orders.mean));
  });

  it('GET /benchmarks is readable by the dashboard origin only, and needs the token', async () => {
    const [a] = nodes as [TestNode];
    const app = appOf(a);
    const auth = { authorization: `Bearer ${TOKEN}` };
    const pre = await app.request(`/benchmarks?period=${PERIOD}`, {
      method: 'OPTIONS',
      headers: {
        origin: DASHBOARD,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
        'access-control-request-private-network': 'true',
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(DASHBOARD);
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
    expect(pre.headers.get('access-control-allow-private-network')).toBe('true');

    const ok = await app.request(`/benchmarks?period=${PERIOD}`, {
      headers: { ...auth, origin: DASHBOARD },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(DASHBOARD);
    const body = (await ok.json()) as { own: { values: Record<string, number> }[] };
    expect(body.own[0]!.values.orders).toBe(truth.get(a)!.values.orders);

    const foreign = await app.request('/benchmarks', {
      headers: { ...auth, origin: 'http://elsewhere.test' },
    });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    const noToken = await app.request('/benchmarks', { headers: { origin: DASHBOARD } });
    expect(noToken.status).toBe(401);
    // The prediction routes are never readable cross-origin.
    const forecast = await app.request('/forecast?catalog_key=x', {
      headers: { ...auth, origin: DASHBOARD },
    });
    expect(forecast.headers.get('access-control-allow-origin')).toBeNull();
    const bad = await app.request('/benchmarks?period=2024-13', { headers: auth });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(
      /^query\.period: must be a month/,
    );
  });
});
