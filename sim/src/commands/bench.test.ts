import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../..', import.meta.url));
const cli = (args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'sim/src/cli.ts', ...args], { cwd: root });

describe('coopfl-sim bench secagg', () => {
  it('prints one JSON object describing a correct round', async () => {
    const { stdout } = await cli([
      'bench',
      'secagg',
      '--clients',
      '12',
      '--params',
      '500',
      '--dropout',
      '0.25',
      '--json',
    ]);
    const r = JSON.parse(stdout) as Record<string, unknown>;
    expect(r).toMatchObject({
      clients: 12,
      params: 500,
      neighbors: 11,
      dropout: 0.25,
      dropped: 3,
      correct: true,
      raw_update_bytes: 2000,
    });
    const ms = r.client_ms as { p50: unknown; p95: unknown };
    expect([typeof ms.p50, typeof ms.p95]).toEqual(['number', 'number']);
    expect(r.bytes_up_per_client).toBeGreaterThan(2000);
    expect(r.max_abs_error as number).toBeLessThanOrEqual(r.error_bound as number);
  });

  it('names a bad option and exits with code 2', async () => {
    const err = (await cli(['bench', 'secagg', '--clients', '1', '--params', '10']).catch(
      (e: unknown) => e,
    )) as {
      code: number;
      stderr: string;
    };
    expect(err.code).toBe(2);
    expect(err.stderr).toMatch(/--clients: .*2/);
  });
});

describe('coopfl-sim bench round', () => {
  it('measures rounds after the warm-up, in the same coordinator, and reports the first apart', async () => {
    const { stdout } = await cli([
      'bench',
      'round',
      '--clients',
      '3',
      '--params',
      '100',
      '--warmup',
      '1',
      '--repeat',
      '2',
      '--db',
      'memory://',
      '--json',
    ]);
    const r = JSON.parse(stdout) as Record<string, unknown>;
    // The warm-up round released version 1; the two measured rounds, versions 2 and 3.
    expect(r).toMatchObject({
      bench: 'round',
      clients: 3,
      params: 100,
      warmup_rounds: 1,
      database: 'pglite',
      released_version: 3,
    });
    const rounds = r.rounds as Record<string, number>[];
    expect(rounds).toHaveLength(2);
    for (const f of [...rounds, r.first_round as Record<string, number>]) {
      expect(f.coordinator_cpu_ms).toBeGreaterThan(0);
      expect(f.coordinator_overhead_ms).toBeCloseTo(f.round_wall_ms! - f.client_thread_busy_ms!, 1);
      // The members' thread did their secure aggregation and more (signing, HTTP).
      expect(f.client_thread_busy_ms).toBeGreaterThan(f.client_compute_ms!);
      expect(f.client_thread_busy_ms).toBeLessThan(f.round_wall_ms!);
    }
    // The headline figures are the measured rounds' medians (of two: their mean).
    const mid = (k: string) => (rounds[0]![k]! + rounds[1]![k]!) / 2;
    expect(r.round_wall_ms).toBeCloseTo(mid('round_wall_ms'), 1);
    expect(r.coordinator_cpu_ms).toBeCloseTo(mid('coordinator_cpu_ms'), 1);
  }, 120_000);
});
