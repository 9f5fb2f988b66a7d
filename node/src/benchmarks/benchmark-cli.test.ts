import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCoordinator } from '@coopfl/coordinator';
import type { PublishedBenchmark } from '@coopfl/coordinator/client';
import { cryptoReady } from '@coopfl/protocol';
import type { TemporaryDatabase } from '@coopfl/storage';
import { createTemporaryDatabase } from '@coopfl/storage';
import { postgresTestUrl } from '@coopfl/storage/testing';
import type { TestNode } from '../runtime/testing';
import {
  benchmarkNodes,
  dropTestNode,
  smallCooperative,
  testCoordinator,
} from '../runtime/testing';
import { computeKpis } from './kpis';

/**
 * `pnpm coopfl-coordinator benchmark run|list` as a separate process against the serving
 * coordinator's PostgreSQL database (an embedded PGlite directory opens in one process only), with
 * five real nodes over HTTP.
 */
const DATABASE_URL = postgresTestUrl();
if (!DATABASE_URL) {
  console.warn('DATABASE_URL is not set: the benchmark CLI suite (PostgreSQL) is SKIPPED.');
}
const root = fileURLToPath(new URL('../../..', import.meta.url));
const run = promisify(execFile);

describe.skipIf(!DATABASE_URL)('coopfl-coordinator benchmark', () => {
  let tmp: TemporaryDatabase;
  let dir: string;
  let running: RunningCoordinator;
  const nodes: TestNode[] = [];
  const cli = (args: string[]) =>
    run(
      process.execPath,
      [
        '--import',
        'tsx',
        'coordinator/src/cli.ts',
        ...args,
        '--db',
        tmp.url,
        '--key-file',
        join(dir, 'coordinator.key'),
      ],
      { cwd: root, timeout: 120_000 },
    );

  beforeAll(async () => {
    await cryptoReady();
    tmp = await createTemporaryDatabase(DATABASE_URL!);
    dir = await mkdtemp(join(tmpdir(), 'coopfl-bench-cli-'));
    const c = await testCoordinator(tmp.url, join(dir, 'coordinator.key'));
    running = c.running;
    const tables = smallCooperative({ shops: 5, customersPerShop: 30, days: 120, seed: 3 });
    nodes.push(...(await benchmarkNodes(running, c.admin, tables)));
  }, 240_000);

  afterAll(async () => {
    for (const t of nodes) await dropTestNode(t);
    await running?.close();
    await tmp?.drop();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('names a bad flag and starts nothing', async () => {
    await expect(cli(['benchmark', 'run', '--period', '2024-13'])).rejects.toMatchObject({
      stderr: expect.stringMatching(/period/) as unknown,
    });
    await expect(
      cli(['benchmark', 'run', '--period', '2024-03', '--epsilon', 'lots']),
    ).rejects.toMatchObject({
      stderr: expect.stringContaining('--epsilon must be a number') as unknown,
    });
    await expect(
      cli(['benchmark', 'run', '--period', '2024-03', '--kpis', 'orders,aov']),
    ).rejects.toMatchObject({
      stderr: expect.stringContaining('--kpis: unknown KPI "aov" (known: orders,') as unknown,
    });
    const listed = JSON.parse((await cli(['benchmark', 'list', '--json'])).stdout) as unknown[];
    expect(listed).toEqual([]);
  }, 120_000);

  it("run waits for the release and prints it; list shows it; the figures are the shops' own", async () => {
    // Settled into a value at once, so a failure is reported here, not as an unhandled rejection.
    const started = cli([
      'benchmark',
      'run',
      '--period',
      '2024-03',
      '--kpis',
      'orders,average_order_value',
      '--dp',
      'off',
      '--json',
    ]).then(
      (r) => ({ ok: true as const, stdout: r.stdout }),
      (err: unknown) => ({ ok: false as const, err }),
    );
    // The CLI writes the round to the database (after its own start-up, slow on a loaded
    // machine); the serving coordinator picks it up on its sweep, and the members on their poll.
    const deadline = Date.now() + 90_000;
    let joined = false;
    while (!joined && Date.now() < deadline) {
      const summaries = await Promise.all(
        nodes.map((t) => t.node.run({ once: true, channelPollMs: 200 })),
      );
      joined = summaries.some((s) => s.joined > 0);
      if (!joined) await new Promise((r) => setTimeout(r, 500));
    }
    const done = await started;
    if (!done.ok) throw done.err;
    expect(joined).toBe(true);
    const { stdout } = done;
    const published = JSON.parse(stdout) as PublishedBenchmark;
    expect(published).toMatchObject({
      period: '2024-03',
      peerGroup: 'cooperative',
      contributors: 5,
    });
    const orders = published.kpis.find((k) => k.kpi === 'orders')!;
    const truth = await Promise.all(nodes.map((t) => computeKpis(t.node.db, '2024-03')));
    const mean = truth.reduce((a, k) => a + k.values.orders!, 0) / truth.length;
    expect(orders.status).toBe('released');
    expect(orders.mean).toBeCloseTo(mean, 3);

    const listed = JSON.parse(
      (await cli(['benchmark', 'list', '--period', '2024-03', '--json'])).stdout,
    ) as PublishedBenchmark[];
    expect(listed.map((b) => b.roundId)).toEqual([published.roundId]);
    const text = (await cli(['benchmark', 'list'])).stdout;
    expect(text).toMatch(/2024-03 · cooperative · no DP/);
    expect(text).toMatch(/Orders\s+n≈5 {2}mean /);
  }, 180_000);
});
