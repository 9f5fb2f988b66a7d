import { describe, expect, it } from 'vitest';
import { stripTiming } from './results';
import { runExperiment } from './run';
import { TINY } from './tiny.fixture';

describe('coopfl-sim run: reproducibility', () => {
  it('gives identical results.json for the same seed, apart from timing fields', async () => {
    const cfg = { ...TINY, models: ['fraud' as const] };
    const a = JSON.parse(JSON.stringify(await runExperiment(cfg))) as unknown;
    const b = JSON.parse(JSON.stringify(await runExperiment(cfg))) as unknown;
    expect(stripTiming(b)).toEqual(stripTiming(a));
    const other = JSON.parse(JSON.stringify(await runExperiment({ ...cfg, seed: 6 }))) as unknown;
    expect(stripTiming(other)).not.toEqual(stripTiming(a));
  }, 120_000);
});

describe('coopfl-sim run --workers', () => {
  it('gives the same results.json with the nodes in two worker threads or in the simulator’s own', async () => {
    const cfg = { ...TINY, models: ['fraud' as const] };
    const inProcess = await runExperiment({ ...cfg, workers: 0 });
    const workers = await runExperiment({ ...cfg, workers: 2 });
    expect([inProcess.timing.workers, workers.timing.workers]).toEqual([0, 2]);
    expect(stripTiming(JSON.parse(JSON.stringify(workers)))).toEqual(
      stripTiming(JSON.parse(JSON.stringify(inProcess))),
    );
  }, 120_000);
});

describe('coopfl-sim run --transport memory', () => {
  it('gives the same results as over HTTP: the same coordinator routes, only without sockets', async () => {
    const cfg = { ...TINY, models: ['fraud' as const] };
    const http = stripTiming(JSON.parse(JSON.stringify(await runExperiment(cfg))));
    const memory = stripTiming(
      JSON.parse(JSON.stringify(await runExperiment({ ...cfg, transport: 'memory' }))),
    ) as { config: { transport: string }; models: { rounds: { survivors: number }[] }[] };
    expect(memory.config.transport).toBe('memory');
    expect(memory.models[0]!.rounds.map((r) => r.survivors)).toEqual([3, 3]);
    expect({ ...memory, config: { ...memory.config, transport: 'http' } }).toEqual(http);
  }, 120_000);
});
