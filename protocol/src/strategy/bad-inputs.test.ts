import { beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../crypto/random';
import { cryptoReady } from '../crypto/sodium';
import { withCentralDp } from './central-dp';
import type { StrategyConfigInput } from './config';
import { StrategyConfigSchema } from './config';
import { createOptimizer } from './create';
import { expectProtocolError } from './testkit';
import type { Aggregate, OptimizerKind, ServerOptimizer } from './types';

beforeAll(cryptoReady);

const kinds: OptimizerKind[] = ['fedavg', 'fedadagrad', 'fedadam', 'fedyogi'];
const optimizers: [string, () => ServerOptimizer][] = kinds.flatMap((kind) => [
  [kind, () => createOptimizer({ kind })],
  [
    `central DP(${kind})`,
    () =>
      withCentralDp(createOptimizer({ kind }), {
        clipNorm: 1,
        noiseMultiplier: 1,
        random: seededRandom(1),
      }),
  ],
]);

describe.each(optimizers)('%s rejects bad inputs with named errors', (_, make) => {
  const g = Float32Array.of(0.1, 0.2, 0.3);
  const ok: Aggregate = { sum: Float64Array.of(0.1, 0.1, 0.1), weight: 2 };

  it('NaN or Infinity in the aggregate: InvalidInput naming the index', () => {
    expectProtocolError(
      () => make().step(g, { sum: Float64Array.of(0, NaN, 0), weight: 2 }, undefined),
      'InvalidInput',
      /aggregate\.sum\[1\] is NaN/,
    );
    expectProtocolError(
      () => make().step(g, { sum: Float64Array.of(0, 0, -Infinity), weight: 2 }, undefined),
      'InvalidInput',
      /aggregate\.sum\[2\] is infinite/,
    );
    expectProtocolError(
      () => make().step(Float32Array.of(0, 0, NaN), ok, undefined),
      'InvalidInput',
      /global\[2\] is NaN/,
    );
  });

  it('wrong length: WrongLength', () => {
    expectProtocolError(
      () => make().step(g, { sum: Float64Array.of(0.1, 0.1), weight: 2 }, undefined),
      'WrongLength',
      /2 entries, the global model has 3/,
    );
  });

  it('zero, negative or NaN total weight: InvalidInput naming the weight', () => {
    for (const weight of [0, -1, NaN, Infinity]) {
      expectProtocolError(
        () => make().step(g, { sum: ok.sum, weight }, undefined),
        'InvalidInput',
        /aggregate\.weight must be a positive finite number/,
      );
    }
  });

  it('wrong types: InvalidArgument', () => {
    expectProtocolError(
      () => make().step(Float64Array.of(0, 0, 0) as unknown as Float32Array, ok, undefined),
      'InvalidArgument',
      /global must be a Float32Array/,
    );
    expectProtocolError(
      () => make().step(g, { sum: [0, 0, 0] as unknown as Float64Array, weight: 2 }, undefined),
      'InvalidArgument',
      /aggregate\.sum must be a Float64Array/,
    );
  });

  it('an optimizer state of another kind: InvalidArgument naming both kinds', () => {
    const opt = make();
    const other = kinds.find((k) => k !== opt.kind)!;
    const foreign = createOptimizer({ kind: other }).step(g, ok, undefined).state;
    expectProtocolError(
      () => opt.step(g, ok, foreign),
      'InvalidArgument',
      new RegExp(`'${other}', this optimizer is '${opt.kind}'`),
    );
  });
});

describe('strategy configuration', () => {
  it('fills in the documented defaults', () => {
    expect(StrategyConfigSchema.parse({ kind: 'fedavg' })).toEqual({ kind: 'fedavg', eta: 1 });
    expect(StrategyConfigSchema.parse({ kind: 'fedadagrad' })).toEqual({
      kind: 'fedadagrad',
      eta: 0.1,
      beta1: 0,
      tau: 1e-3,
    });
    for (const kind of ['fedadam', 'fedyogi'] as const) {
      expect(StrategyConfigSchema.parse({ kind })).toEqual({
        kind,
        eta: 1e-2,
        beta1: 0.9,
        beta2: 0.99,
        tau: 1e-3,
      });
    }
  });

  it('createOptimizer builds the named kind', () => {
    for (const kind of kinds) expect(createOptimizer({ kind }).kind).toBe(kind);
  });

  it('rejects bad parameters with InvalidConfig naming the field', () => {
    const bad: [unknown, RegExp][] = [
      [{ kind: 'fedsgd' }, /kind/],
      [{ kind: 'fedadam', eta: 0 }, /eta/],
      [{ kind: 'fedadam', beta1: 1 }, /beta1/],
      [{ kind: 'fedyogi', beta2: -0.1 }, /beta2/],
      [{ kind: 'fedyogi', tau: 0 }, /tau/],
      [{ kind: 'fedadam', beta_1: 0.9 }, /beta_1|unrecognized/i],
      [{ kind: 'fedavg', beta2: 0.9 }, /beta2|unrecognized/i],
      [{ kind: 'fedadam', eta: Infinity }, /eta/],
    ];
    for (const [config, message] of bad) {
      expectProtocolError(
        () => createOptimizer(config as StrategyConfigInput),
        'InvalidConfig',
        message,
      );
    }
  });
});
