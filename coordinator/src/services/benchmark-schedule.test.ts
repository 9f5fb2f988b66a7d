import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import type { RunningCoordinator } from '../server';
import { startCoordinator } from '../server';
import type { AdminClient } from '../client';
import { bootstrapFleet } from '../testing/fleet';
import type { FleetNode } from '../testing/fleet';
import { previousMonth } from '@coopfl/protocol/benchmarks';
import { SCHEDULE_RETRY_MS, benchmarkScheduleTick } from './benchmarks';

describe('monthly benchmark schedule', () => {
  let running: RunningCoordinator;
  let admin: AdminClient;
  let nodes: FleetNode[];
  let now = new Date('2026-11-02T08:00:00Z');
  const started: string[] = [];
  const tick = () =>
    // The schedule's clock only: signed requests are checked against the real one.
    benchmarkScheduleTick({ ...running.ctx, now: () => now }, async (input) => {
      const rc = await running.rounds.startBenchmark(input, 'schedule');
      started.push(rc.roundId);
      return rc;
    });

  beforeAll(async () => {
    running = await startCoordinator(
      loadConfig({ db: 'memory://', port: 0, keyFile: 'memory', logLevel: 'silent' }, {}),
    );
    ({ admin, nodes } = await bootstrapFleet(running, 3));
  }, 60_000);
  afterAll(() => running?.close());

  it('previousMonth: the month before, across a year boundary', () => {
    expect(previousMonth(new Date('2026-11-02T00:00:00Z'))).toBe('2026-10');
    expect(previousMonth(new Date('2027-01-31T23:59:59Z'))).toBe('2026-12');
  });

  it('off by default; then from its day on, runs the month before once', async () => {
    expect(await tick()).toBeNull();
    await admin.benchmarks.setSettings.mutate({ minContributors: 2, monthlyOnDay: 3 });
    // Before the day: nothing.
    expect(await tick()).toBeNull();
    now = new Date('2026-11-03T00:00:05Z');
    // Nobody consents to a KPI yet: refused, logged, and not retried within the hour.
    expect(await tick()).toBeNull();
    for (const n of nodes) await n.client.trpc.node.setConsent.mutate({ kpis: ['orders'] });
    expect(await tick()).toBeNull();
    now = new Date(now.getTime() + SCHEDULE_RETRY_MS);
    expect(await tick()).toBe('2026-10');
    expect(started).toHaveLength(1);
    const r = await admin.rounds.get.query({ roundId: started[0]! });
    expect(r).toMatchObject({ kind: 'benchmark' });
    expect(r.participants).toHaveLength(3);
    // Running (or released): never a second run of the same month.
    now = new Date(now.getTime() + 2 * SCHEDULE_RETRY_MS);
    expect(await tick()).toBeNull();
    expect(started).toHaveLength(1);
  });
});
