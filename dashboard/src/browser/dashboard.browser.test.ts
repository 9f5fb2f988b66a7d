import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { AdminClient } from '@coopfl/coordinator/client';
import type { FleetNode } from '@coopfl/coordinator/testing/fleet';
import { SHOTS, chromiumAvailable, launchChromium } from './chromium';
import { startDashboard } from '../../dev-server';
import type { RunningDashboard } from '../../dev-server';
import { ADMIN, startCooperative } from '../testing/harness';
import { joinWithInvite, participate } from './participants';

/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core; nothing is ever
 * downloaded) against a real coordinator and protocol-level member nodes on 127.0.0.1.
 * Screenshots of each page go to test-results/dashboard/.
 */
const available = chromiumAvailable('dashboard browser suite');

/** Pixel variance of a PNG, decoded by the browser itself (0 for a blank, one-colour image). */
async function pngVariance(page: Page, png: Buffer): Promise<number> {
  return page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width;
    c.height = img.height;
    const g = c.getContext('2d')!;
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let sum = 0;
    let sq = 0;
    const n = d.length / 4;
    for (let i = 0; i < d.length; i += 4) {
      const v = (d[i]! + d[i + 1]! + d[i + 2]!) / 3;
      sum += v;
      sq += v * v;
    }
    return sq / n - (sum / n) ** 2;
  }, png.toString('base64'));
}

describe.skipIf(!available)('dashboard in Chromium', () => {
  let coop: Awaited<ReturnType<typeof startCooperative>>;
  let admin: AdminClient;
  let dash: RunningDashboard;
  let browser: Browser;
  let adminCtx: BrowserContext;
  let page: Page;
  const nodes: FleetNode[] = [];
  let members: ReturnType<typeof participate>;
  const shot = async (p: Page, name: string) => {
    const png = await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
    return png;
  };
  const url = (path: string) => `${dash.url}${path}`;
  /** Waits until the page has hydrated, so typing is not lost to the first client render. */
  const ready = (p: Page) => p.locator('body[data-hydrated="true"]').waitFor();

  beforeAll(async () => {
    coop = await startCooperative(2);
    admin = coop.admin;
    nodes.push(...coop.nodes);
    await admin.models.create.mutate({ id: 'opaque', kind: 'custom', dim: 8 });
    members = participate(
      () => nodes,
      (version) => 1 / (1 + version),
    );
    dash = await startDashboard({ coordinatorUrl: coop.running.url, timeoutMs: 90_000 });
    browser = await launchChromium();
    adminCtx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    page = await adminCtx.newPage();
    page.setDefaultTimeout(60_000);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await members?.stop();
    await dash?.close();
    await coop?.running.close();
  }, 60_000);

  it('admin logs in, invites and approves a member, runs a round live and sees the quality chart', async () => {
    onTestFailed(async () => {
      await page.screenshot({ path: join(SHOTS, 'failure-admin.png'), fullPage: true });
    });
    await page.goto(url('/'));
    await expect.poll(() => page.url()).toContain('/login');
    await ready(page);
    await shot(page, 'login');
    await page.getByLabel('Username').fill(ADMIN.username);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('unknown username or wrong password').waitFor();
    await ready(page);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await shot(page, 'overview');

    await page.getByRole('link', { name: 'Members', exact: true }).click();
    await page.getByRole('heading', { name: 'Members', level: 1 }).waitFor();
    await page.getByLabel("Note (for you, e.g. the shop's name)").fill('the new shop');
    await page.getByRole('button', { name: 'Create invite' }).click();
    const invite = await page.getByTestId('invite').inputValue();
    expect(invite).toMatch(/^cfi_/);
    const joined = await joinWithInvite(coop.running.url, invite, 'Browser shop');
    await page.reload();
    await ready(page);
    await page.getByRole('button', { name: 'Approve Browser shop' }).click();
    await page.getByRole('button', { name: 'Approve Browser shop' }).waitFor({ state: 'detached' });
    nodes.push(joined);
    await shot(page, 'members');

    await page.getByRole('link', { name: 'Rounds', exact: true }).click();
    await page.getByRole('heading', { name: 'Rounds', level: 1 }).waitFor();
    await ready(page);
    await page.getByLabel('Model').selectOption('opaque');
    await page.getByLabel('Kind').selectOption('train');
    await page.getByRole('button', { name: 'Start round' }).click();
    await page.waitForURL(/\/rounds\/[^/]+$/);
    // The page updates itself while the round runs (no reload here).
    const outcome = page.getByTestId('round-outcome');
    await expect
      .poll(() => outcome.textContent(), { timeout: 90_000, interval: 500 })
      .toMatch(/released → v1/);
    expect(await page.getByTestId('round-cohort').textContent()).toContain('3 members');
    await shot(page, 'round');

    await page.getByRole('link', { name: 'Rounds', exact: true }).click();
    await page.getByRole('heading', { name: 'Rounds', level: 1 }).waitFor();
    await ready(page);
    await shot(page, 'rounds');
    await page.getByLabel('Kind').selectOption('eval');
    await page.getByRole('button', { name: 'Start round' }).click();
    await page.waitForURL(/\/rounds\/[^/]+$/);
    await expect
      .poll(() => outcome.textContent(), { timeout: 90_000, interval: 500 })
      .toMatch(/released/);

    await page.getByRole('link', { name: 'Models', exact: true }).click();
    await page.locator('canvas').first().waitFor();
    await page.waitForTimeout(500); // Chart.js draws on the next frame
    const png = await shot(page, 'models');
    expect(await pngVariance(page, png)).toBeGreaterThan(100);
    const chart = await page
      .locator('canvas')
      .first()
      .screenshot({ path: join(SHOTS, 'quality-chart.png') });
    expect(await pngVariance(page, chart)).toBeGreaterThan(50);

    for (const p of ['privacy', 'settings']) {
      await page.goto(url(`/${p}`));
      await page.getByRole('heading', { level: 1 }).waitFor();
      await shot(page, p);
    }
  }, 300_000);

  it("a member logs in with its node's link, changes consent, and the next round respects it; another member's page is 403", async () => {
    const me = nodes[0]!;
    const { token } = await me.client.trpc.node.dashboardLogin.mutate();
    const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const mp = await ctx.newPage();
    mp.setDefaultTimeout(60_000);
    onTestFailed(async () => {
      await mp.screenshot({ path: join(SHOTS, 'failure-member.png'), fullPage: true });
    });
    await mp.goto(url(`/login/member?token=${token}`));
    await mp.waitForURL(new RegExp(`/members/${encodeURIComponent(me.memberId)}$`));
    await mp.getByRole('heading', { name: 'Your shop' }).waitFor();
    await shot(mp, 'member-page');

    await ready(mp);
    await mp.getByRole('link', { name: 'Consent', exact: true }).click();
    await mp.getByRole('heading', { name: 'Consent', level: 1 }).waitFor();
    await ready(mp);
    await mp.getByLabel('Only the ones ticked:').check();
    await mp.getByRole('checkbox', { name: /^opaque/ }).uncheck();
    await mp.getByRole('checkbox', { name: /^Fraud \/ chargeback rate/ }).check();
    await mp.getByRole('button', { name: 'Save consent' }).click();
    await mp.getByText('Saved. Your node adopts it on its next poll.').waitFor();
    await shot(mp, 'consent');

    const next = await admin.rounds.start.mutate({ modelId: 'opaque' });
    const cohort = (await admin.rounds.get.query({ roundId: next.roundId })).participants;
    expect(cohort.map((p) => p.memberId)).not.toContain(me.memberId);
    expect(cohort).toHaveLength(2);

    const other = nodes[1]!.memberId;
    const res = await mp.goto(url(`/members/${encodeURIComponent(other)}`));
    expect(res?.status()).toBe(403);
    await mp.getByRole('heading', { name: 'Not allowed' }).waitFor();
    await shot(mp, 'member-forbidden');
    expect((await mp.goto(url('/settings')))?.status()).toBe(403);
    await ctx.close();
  }, 180_000);
});
