import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../usage';
import { parseExperimentConfig, workersOf } from './config';
import { modelConfigOf, architectureOf } from './run';
import { parseSweep, sweepConfig } from './sweep';

describe('experiment config', () => {
  it('fills small defaults', () => {
    const c = parseExperimentConfig({});
    expect(c).toMatchObject({ stores: 5, rounds: 5, dp: 'off', dropout: 0, seed: 1 });
    expect(c.models).toEqual(['demand', 'recommendation', 'fraud']);
    expect(c.data).toMatchObject({ source: 'synthetic' });
    // Left out: one worker thread per core (`workersOf`), reported under timing.workers.
    expect(c.workers).toBeUndefined();
    expect(workersOf(c)).toBe(availableParallelism());
    expect(workersOf(parseExperimentConfig({ workers: 0 }))).toBe(0);
  });

  it.each([
    [{ rounds: 0 }, 'config.rounds: must be ≥ 1'],
    [{ stores: 1 }, 'config.stores: must be ≥ 2'],
    [{ dropout: 1 }, 'config.dropout: must be in [0, 1)'],
    [{ models: ['demand', 'weather'] }, 'config.models.1'],
    [{ training: { epochs: 0 } }, 'config.training.epochs: must be ≥ 1'],
    [{ data: { source: 'canonical' } }, 'config.data.dir'],
    [{ dp: 'laplace' }, 'config.dp'],
    [{ workers: -1 }, 'config.workers: must be ≥ 0'],
    [{ workers: 1.5 }, 'config.workers: must be an integer'],
    [{ roundz: 3 }, 'config'],
  ])('rejects %j naming the field', (raw, message) => {
    expect(() => parseExperimentConfig(raw)).toThrow(UsageError);
    expect(() => parseExperimentConfig(raw)).toThrow(message);
  });

  it('calibrates the noise multiplier for the target ε over all rounds (q = 1)', () => {
    const c = parseExperimentConfig({ dp: 'central', epsilon: 8, rounds: 10, models: ['fraud'] });
    const m = modelConfigOf(c, architectureOf(c, 'fraud'));
    expect(m.dp.mode).toBe('central');
    expect(m.dp.clipNorm).toBe(1);
    expect(m.dp.noiseMultiplier).toBeGreaterThan(0.5);
    const loose = modelConfigOf(
      parseExperimentConfig({ dp: 'central', epsilon: 80, rounds: 10 }),
      architectureOf(c, 'fraud'),
    );
    expect(loose.dp.noiseMultiplier).toBeLessThan(m.dp.noiseMultiplier);
    const off = modelConfigOf(parseExperimentConfig({}), architectureOf(c, 'fraud'));
    expect(off.dp).toMatchObject({ mode: 'off', noiseMultiplier: 0, clipNorm: 100 });
  });

  it('gives each model its default server optimizer unless the config names one', () => {
    const strategy = (raw: unknown, kind: 'demand' | 'recommendation') => {
      const c = parseExperimentConfig(raw);
      return modelConfigOf(c, architectureOf(c, kind)).strategy;
    };
    expect(strategy({}, 'recommendation')).toMatchObject({ kind: 'fedadam', eta: 0.03 });
    expect(strategy({}, 'demand')).toMatchObject({ kind: 'fedavg', eta: 1 });
    // serverLearningRate is FedAvg's η: it leaves the FedAdam default alone.
    expect(strategy({ serverLearningRate: 0.5 }, 'demand')).toMatchObject({ eta: 0.5 });
    expect(strategy({ serverLearningRate: 0.5 }, 'recommendation')).toMatchObject({ eta: 0.03 });
    const yogi = { strategies: { recommendation: { kind: 'fedyogi', eta: 0.01 } } };
    expect(strategy(yogi, 'recommendation')).toMatchObject({ kind: 'fedyogi', eta: 0.01 });
    expect(strategy(yogi, 'demand')).toMatchObject({ kind: 'fedavg' });
    expect(() =>
      parseExperimentConfig({ strategies: { recommendation: { kind: 'fedsgd' } } }),
    ).toThrow('config.strategies.recommendation');
    expect(() => parseExperimentConfig({ strategies: { ranking: { kind: 'fedavg' } } })).toThrow(
      'config.strategies',
    );
  });

  it('caps aggregation weights for every model or per model kind', () => {
    const cap = (raw: unknown, kind: 'demand' | 'recommendation') => {
      const c = parseExperimentConfig(raw);
      return modelConfigOf(c, architectureOf(c, kind)).maxWeight;
    };
    expect(cap({}, 'recommendation')).toBe(1);
    expect(cap({ maxWeight: 500 }, 'demand')).toBe(500);
    const perKind = { maxWeight: { recommendation: 1e6 } };
    expect(cap(perKind, 'recommendation')).toBe(1e6);
    expect(cap(perKind, 'demand')).toBe(1);
    expect(() => parseExperimentConfig({ maxWeight: { recommendation: 0 } })).toThrow(
      'config.maxWeight',
    );
    expect(() => parseExperimentConfig({ maxWeight: { ranking: 5 } })).toThrow('config.maxWeight');
  });

  it('parses every experiment config checked in under sim/experiments', () => {
    const dir = fileURLToPath(new URL('../../experiments', import.meta.url));
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files).toContain('online-retail.json');
    for (const f of files) {
      const c = parseExperimentConfig(JSON.parse(readFileSync(join(dir, f), 'utf8')));
      expect(c.rounds, f).toBeGreaterThan(0);
    }
  });

  it('parses sweeps; ε = inf turns DP off', () => {
    expect(parseSweep('epsilon=1,8,inf')).toEqual({ param: 'epsilon', values: ['1', '8', 'inf'] });
    expect(sweepConfig({}, 'epsilon', 'inf')).toMatchObject({ dp: 'off' });
    // An ε sweep's inf point is the no-DP reference: its DP runs do not repeat it.
    expect(sweepConfig({}, 'epsilon', '3')).toMatchObject({
      dp: 'central',
      epsilon: 3,
      privacyReference: false,
    });
    expect(sweepConfig({}, 'stores', '20')).toMatchObject({ stores: 20 });
    expect(() => parseSweep('rounds=1,2')).toThrow(UsageError);
    expect(() => parseSweep('epsilon=1,x')).toThrow('--sweep: epsilon value "x"');
  });
});

describe('coopfl-sim run (arguments)', () => {
  const root = fileURLToPath(new URL('../../..', import.meta.url));
  const cli = (args: string[]) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', 'sim/src/cli.ts', ...args], {
      cwd: root,
    });

  it('names a bad flag and exits with code 2 before starting anything', async () => {
    const err = (await cli(['run', '--rounds', '0']).catch((e: unknown) => e)) as {
      code: number;
      stderr: string;
    };
    expect(err.code).toBe(2);
    expect(err.stderr).toContain('config.rounds: must be ≥ 1');
    const bad = (await cli(['run', '--models', 'demand,weather']).catch((e: unknown) => e)) as {
      code: number;
      stderr: string;
    };
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('config.models.1');
    const workers = (await cli(['run', '--workers', 'two']).catch((e: unknown) => e)) as {
      code: number;
      stderr: string;
    };
    expect(workers.code).toBe(2);
    expect(workers.stderr).toContain('--workers: must be a number');
  });
});
