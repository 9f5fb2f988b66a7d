import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cryptoReady } from '@coopfl/protocol';
import type { RunningCoordinator } from '@coopfl/coordinator';
import type { AdminClient } from '@coopfl/coordinator/client';
import {
  shopTables,
  smallCooperative,
  smallModelConfig,
  storeIdsOf,
  testCoordinator,
} from '../runtime/testing';
import { writeCooperative } from '../synth';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../..', import.meta.url));
let dir: string;
const cli = (args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'node/src/cli/main.ts', '--dir', dir, ...args], {
    cwd: root,
    timeout: 60_000,
    env: { ...process.env, COOPFL_NODE_DIR: '' },
  });
const json = async (args: string[]) =>
  JSON.parse((await cli([...args, '--json'])).stdout) as unknown;

let running: RunningCoordinator;
let admin: AdminClient;

beforeAll(async () => {
  await cryptoReady();
  ({ running, admin } = await testCoordinator());
  dir = await mkdtemp(join(tmpdir(), 'coopfl-node-cli-'));
}, 60_000);

afterAll(async () => {
  await running?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('coopfl-node', () => {
  it('names a bad or missing flag and exits with code 2', async () => {
    await expect(cli(['init', '--invite', 'x', '--json'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--coordinator') as unknown,
    });
    await expect(cli(['status', '--json'])).rejects.toMatchObject({
      code: 2,
      stdout: expect.stringContaining('"code":"NotInitialized"') as unknown,
    });
  }, 60_000);

  it('joins with an invite, then sets and shows consent and status as JSON', async () => {
    const { invite } = await admin.invites.create.mutate({});
    const joined = (await json([
      'init',
      '--coordinator',
      running.url,
      '--invite',
      invite,
      '--name',
      'CLI shop',
    ])) as { memberId: string; status: string; coordinatorFingerprint: string };
    expect(joined).toMatchObject({ status: 'pending' });
    expect(joined.coordinatorFingerprint).toMatch(/^[0-9a-f]{32}$/);
    await admin.members.approve.mutate({ memberId: joined.memberId });

    const set = await json([
      'consent',
      'set',
      '--models',
      'demand,fraud',
      '--kpis',
      'average_order_value',
      '--epsilon-cap',
      'fraud=4',
      '--epsilon-cap',
      'demand=2.5',
      '--epsilon-period-days',
      '365',
    ]);
    expect(set).toEqual({
      consent: {
        models: ['demand', 'fraud'],
        kpis: ['average_order_value'],
        epsilonCaps: { fraud: 4, demand: 2.5 },
        epsilonPeriodDays: 365,
      },
      synced: true,
    });
    expect(await json(['consent', 'show'])).toEqual({
      consent: {
        models: ['demand', 'fraud'],
        kpis: ['average_order_value'],
        epsilonCaps: { fraud: 4, demand: 2.5 },
        epsilonPeriodDays: 365,
      },
      synced: true,
    });
    await expect(cli(['consent', 'set', '--kpis', 'aov'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unknown KPI "aov" (known: orders, revenue') as unknown,
    });
    await expect(cli(['consent', 'set', '--epsilon-cap', 'fraud=-1'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--epsilon-cap') as unknown,
    });

    const status = (await json(['status'])) as Record<string, unknown>;
    expect(status).toMatchObject({
      memberId: joined.memberId,
      name: 'CLI shop',
      membership: 'approved',
      models: [],
      lastRound: null,
      privacy: [],
      consentSynced: true,
    });
    const link = (await json(['dashboard-link'])) as { url: string; page: string };
    expect(link.page).toContain(encodeURIComponent(joined.memberId));
    // A one-time member login token the coordinator minted for this node's signed request.
    expect(link.url).toMatch(/\/login\/member\?token=cfl_[A-Za-z0-9_-]{43}$/);

    // Data in, then one pass of the client loop: no task yet, but the consented model's
    // current global version is stored and served.
    const csv = join(dir, 'csv');
    const tables = smallCooperative({ customersPerShop: 60, days: 120 });
    const storeId = storeIdsOf(tables)[0]!;
    await writeCooperative(csv, shopTables(tables, storeId));
    const imported = (await json(['import', 'canonical', csv])) as {
      rowsImported: number;
      rowsRejected: number;
    };
    expect(imported.rowsImported).toBeGreaterThan(0);
    expect(imported.rowsRejected).toBe(0);
    await admin.models.create.mutate({
      id: 'fraud',
      kind: 'fraud',
      config: smallModelConfig('fraud'),
    });
    const ran = await cli(['run', '--once', '--json']);
    expect(JSON.parse(ran.stdout)).toMatchObject({ polls: 1, joined: 0, refused: 0, failed: 0 });
    expect(ran.stderr).toContain('stored fraud v0');
    const order = tables.orders.find((o) => String(o.store_id) === storeId)!;
    const items = tables.order_items
      .filter((i) => i.order_id === order.order_id && String(i.store_id) === storeId)
      .map((i) => ({ productId: String(i.product_id), quantity: Number(i.quantity) }));
    const orderFile = join(dir, 'order.json');
    await writeFile(
      orderFile,
      JSON.stringify({
        customerId: String(order.customer_id),
        createdAt: new Date(String(order.created_at)).toISOString(),
        total: Number(order.total),
        items,
      }),
    );
    const scored = (await json(['fraud-score', '--order', orderFile])) as {
      modelId: string;
      version: number;
      score: number;
    };
    expect(scored).toMatchObject({ modelId: 'fraud', version: 0 });
    expect(scored.score).toBeGreaterThanOrEqual(0);
    expect(scored.score).toBeLessThanOrEqual(1);
    await expect(cli(['forecast', '--catalog-key', 'x', '--json'])).rejects.toMatchObject({
      code: 1,
      stdout: expect.stringContaining('"code":"NoModel"') as unknown,
    });

    // Benchmarks: the shop's own KPIs, computed locally; nothing published by the cooperative yet.
    const bench = (await json(['benchmark', 'show', '--period', '2024-03'])) as {
      memberId: string;
      own: { period: string; values: Record<string, number> }[];
      published: unknown[];
    };
    expect(bench).toMatchObject({ memberId: joined.memberId, published: [] });
    expect(bench.own.map((o) => o.period)).toEqual(['2024-03']);
    expect(bench.own[0]!.values.orders).toBeGreaterThan(0);
    const shown = await cli(['benchmark', 'show', '--period', '2024-03']);
    expect(shown.stdout).toMatch(
      /2024-03: no published benchmark yet; your own values:\n {2}Orders /,
    );
    await expect(cli(['benchmark', 'show', '--period', '2024-13'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('period must be a month') as unknown,
    });

    // A second init into the same directory is refused (the invite would be wasted).
    const again = await admin.invites.create.mutate({});
    await expect(
      cli(['init', '--coordinator', running.url, '--invite', again.invite, '--json']),
    ).rejects.toMatchObject({
      code: 2,
      stdout: expect.stringContaining('AlreadyInitialized') as unknown,
    });
  }, 180_000);
});
