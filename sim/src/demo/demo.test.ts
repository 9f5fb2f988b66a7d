import { describe, expect, it } from 'vitest';
import { MODEL_KINDS, MODEL_METRICS } from '@coopfl/protocol/models';
import { runDemo } from './demo';

describe('pnpm demo', () => {
  it('brings up a coordinator and three shops, trains and evaluates every model, then stops', async () => {
    const lines: string[] = [];
    const summary = await runDemo({
      shops: 3,
      rounds: 1,
      port: 0,
      servePort: 0,
      dashboardPort: 0,
      print: (l) => lines.push(l),
    });
    expect(lines.some((l) => l.startsWith(`dashboard    ${summary.dashboardUrl}`))).toBe(true);
    const link = lines.find((l) => l.startsWith('shop 1 dashboard login'));
    expect(link).toMatch(/\/login\/member\?token=cfl_/);
    expect(summary.rounds).toBe(1);
    for (const kind of MODEL_KINDS) {
      const m = summary.models[kind]!;
      expect(m.version).toBe(1);
      // The cooperative's averages, released through secure aggregation.
      expect(Object.keys(m.eval ?? {}).sort()).toEqual([...MODEL_METRICS[kind]].sort());
    }
    // The shared KPI benchmark: the order KPIs and the models' own errors from every shop.
    expect(summary.benchmark?.period).toBe('2024-11');
    expect(summary.benchmark!.released).toBeGreaterThanOrEqual(9);
    expect(
      lines.some((l) => /benchmark 2024-11: \d+ of 12 KPIs released; .*\/benchmarks$/.test(l)),
    ).toBe(true);
    expect(lines.some((l) => l.startsWith('admin login  admin / '))).toBe(true);
    expect(lines.filter((l) => l.startsWith('member '))).toHaveLength(3);
    // Everything is stopped: the coordinator no longer answers.
    await expect(fetch(`${summary.coordinatorUrl}/healthz`)).rejects.toThrow();
    await expect(fetch(`${summary.dashboardUrl}/login`)).rejects.toThrow();
  }, 240_000);
});
