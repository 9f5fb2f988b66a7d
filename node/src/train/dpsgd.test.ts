import * as tf from '@tensorflow/tfjs-core';
import { cryptoReady, seededRandom } from '@coopfl/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initTf } from '../tf/backend';
import { clippedGradientSum } from './clipped-grads';
import { DpSgd } from './dpsgd';
import { buildModel, disposeModel, modelVariables, type Batch, type PlainModel } from './model';
import { bruteForceClipped, expectClose, median } from './testkit';

beforeAll(async () => {
  await initTf({ log: () => {} });
  await cryptoReady();
});

/** MLP with two hidden layers (relu, tanh) and a 2-output MSE head. */
function mlp(): { model: PlainModel; batch: Batch } {
  const model = buildModel({
    inputDim: 5,
    layers: [
      { units: 7, activation: 'relu' },
      { units: 4, activation: 'tanh' },
      { units: 2, activation: 'linear' },
    ],
    loss: 'mse',
    seed: 11,
  });
  const batch = {
    x: tf.randomNormal<tf.Rank.R2>([9, 5], 0, 1, 'float32', 3),
    y: tf.randomNormal([9, 2], 0, 1, 'float32', 4),
  };
  return { model, batch };
}

/** Mean-pooled embedding → dense sigmoid → 6-way softmax; rows with repeated ids included. */
function recommender(): { model: PlainModel; batch: Batch } {
  const model = buildModel({
    embedding: { vocab: 13, dim: 4 },
    layers: [
      { units: 5, activation: 'sigmoid' },
      { units: 6, activation: 'linear' },
    ],
    loss: 'softmax-ce-logits',
    seed: 5,
  });
  // Larger initial table so that the embedding's share of the gradient norm is not negligible.
  model.embedding!.table.assign(tf.randomNormal([13, 4], 0, 1, 'float32', 9));
  const ids = [
    [1, 2, 3, 4],
    [5, 5, 5, 5], // one id four times: multiplicity 16
    [0, 7, 0, 7], // two ids twice each
    [12, 11, 12, 3],
    [6, 8, 9, 10],
    [2, 2, 4, 9],
    [3, 1, 4, 1],
  ];
  const batch = {
    x: tf.tensor2d(ids, undefined, 'int32'),
    y: tf.tensor1d([0, 5, 2, 3, 1, 4, 0], 'int32'),
  };
  return { model, batch };
}

/** {@link recommender} with a fixed logit offset per example (a prior that masks some classes). */
function recommenderWithOffset(): { model: PlainModel; batch: Batch } {
  const { model, batch } = recommender();
  const offset = tf.randomUniform<tf.Rank.R2>([7, 6], -3, 0, 'float32', 12);
  return { model, batch: { ...batch, offset } };
}

describe('clippedGradientSum equals per-example brute force (noise off)', () => {
  const cases: [string, () => { model: PlainModel; batch: Batch }][] = [
    ['MLP, two hidden layers', mlp],
    ['embedding (repeated ids) → dense → softmax', recommender],
    ['embedding → softmax with a fixed logit offset per example', recommenderWithOffset],
  ];
  const built: { model: PlainModel; batch: Batch }[] = [];
  afterAll(() => {
    for (const { model, batch } of built) {
      disposeModel(model);
      tf.dispose([batch.x, batch.y, ...(batch.offset ? [batch.offset] : [])]);
    }
  });

  it.each(cases)('%s', (_, make) => {
    const { model, batch } = make();
    built.push({ model, batch });
    // Clip at the median norm: some examples are clipped, the others keep factor 1.
    const clipNorm = median(bruteForceClipped(model, batch, 1e9).norms);
    const oracle = bruteForceClipped(model, batch, clipNorm);
    const got = clippedGradientSum(model, batch, clipNorm);
    try {
      expectClose(got.norms.dataSync(), oracle.norms, 1e-5, 'per-example norms');
      const factors = Array.from(got.factors.dataSync());
      expect(factors.some((f) => f === 1)).toBe(true);
      expect(factors.some((f) => f < 0.999)).toBe(true);
      expectClose(
        factors,
        oracle.norms.map((n) => Math.min(1, clipNorm / n)),
        1e-5,
        'clip factors',
      );
      for (const v of modelVariables(model)) {
        expect(got.sums[v.name]!.shape).toEqual(v.shape);
        expectClose(
          got.sums[v.name]!.dataSync(),
          oracle.sums.get(v.name)!,
          1e-5,
          `clipped sum of ${v.name}`,
        );
      }
    } finally {
      tf.dispose([got.sums, got.norms, got.factors]);
    }
  });

  it('DpSgd with σ = 0 returns the clipped sum over the batch size', () => {
    const { model, batch } = mlp();
    built.push({ model, batch });
    const dp = new DpSgd(model, {
      clipNorm: 0.5,
      noiseMultiplier: 0,
      samplingRate: 0.1,
      rng: seededRandom(1),
      optimizer: tf.train.sgd(0.1),
    });
    const oracle = bruteForceClipped(model, batch, 0.5);
    const noisy = dp.noisyGradients(batch);
    for (const v of modelVariables(model)) {
      expectClose(
        noisy[v.name]!.dataSync(),
        oracle.sums.get(v.name)!.map((s) => s / 9),
        1e-5,
        v.name,
      );
    }
    tf.dispose(noisy);
  });
});

describe('DpSgd noise', () => {
  /**
   * noisy − clean over ~11k coordinates must be N(0, (σC/B)²). Checks, each two-sided at
   * p = 1e-6 (z = 4.89): sample mean, sample variance (χ² with n−1 dof, normal approximation),
   * and the share beyond 2 std (binomial, p0 = 0.0455). For an arbitrary seed the three together
   * falsely reject with probability ≤ 3·10⁻⁶; with the fixed seed the test is deterministic.
   */
  it('has standard deviation σ·C / expected batch size', () => {
    const model = buildModel({
      embedding: { vocab: 1000, dim: 10 },
      layers: [{ units: 16, activation: 'linear' }],
      loss: 'softmax-ce-logits',
      seed: 2,
    });
    const batch = {
      x: tf.tensor2d(
        [
          [1, 2],
          [3, 3],
        ],
        undefined,
        'int32',
      ),
      y: tf.tensor1d([4, 5], 'int32'),
    };
    const [sigma, clipNorm, expected] = [1.3, 0.7, 4];
    const opts = {
      clipNorm,
      samplingRate: 0.01,
      expectedBatchSize: expected,
      optimizer: tf.train.sgd(0.1),
    };
    const clean = new DpSgd(model, {
      ...opts,
      noiseMultiplier: 0,
      rng: seededRandom(1),
    }).noisyGradients(batch);
    const noisy = new DpSgd(model, {
      ...opts,
      noiseMultiplier: sigma,
      rng: seededRandom(2024),
    }).noisyGradients(batch);
    const z: number[] = [];
    for (const v of modelVariables(model)) {
      const a = noisy[v.name]!.dataSync();
      const b = clean[v.name]!.dataSync();
      for (let i = 0; i < a.length; i++) z.push(a[i]! - b[i]!);
    }
    const std = (sigma * clipNorm) / expected;
    const n = z.length;
    expect(n).toBeGreaterThan(10_000);
    const mean = z.reduce((s, x) => s + x, 0) / n;
    const variance = z.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1);
    const Z = 4.89;
    expect(Math.abs(mean) / (std / Math.sqrt(n))).toBeLessThan(Z);
    expect(Math.abs(variance / std ** 2 - 1) / Math.sqrt(2 / (n - 1))).toBeLessThan(Z);
    const tail = z.filter((x) => Math.abs(x) > 2 * std).length / n;
    expect(Math.abs(tail - 0.0455) / Math.sqrt((0.0455 * 0.9545) / n)).toBeLessThan(Z);
    tf.dispose([clean, noisy, batch.x, batch.y]);
    disposeModel(model);
  });

  it('comes only from the injected random source', () => {
    const { model, batch } = mlp();
    const make = (seed: number) =>
      new DpSgd(model, {
        clipNorm: 1,
        noiseMultiplier: 1,
        samplingRate: 0.1,
        rng: seededRandom(seed),
        optimizer: tf.train.sgd(0.1),
      });
    const [a, b, c] = [
      make(7).noisyGradients(batch),
      make(7).noisyGradients(batch),
      make(8).noisyGradients(batch),
    ];
    const name = model.dense[0]!.w.name;
    expect(Array.from(a[name]!.dataSync())).toEqual(Array.from(b[name]!.dataSync()));
    expect(Array.from(a[name]!.dataSync())).not.toEqual(Array.from(c[name]!.dataSync()));
    tf.dispose([a, b, c, batch.x, batch.y]);
    disposeModel(model);
  });

  it('an empty Poisson batch releases pure noise over the expected batch size', () => {
    const { model, batch } = mlp();
    const empty = { x: tf.zeros<tf.Rank.R2>([0, 5]), y: tf.zeros([0, 2]) };
    const dp = new DpSgd(model, {
      clipNorm: 1,
      noiseMultiplier: 2,
      samplingRate: 0.1,
      expectedBatchSize: 3,
      rng: seededRandom(3),
      optimizer: tf.train.sgd(0.1),
    });
    const g = dp.noisyGradients(empty);
    for (const v of modelVariables(model)) expect(g[v.name]!.shape).toEqual(v.shape);
    expect(Array.from(g[model.dense[0]!.w.name]!.dataSync()).some((x) => x !== 0)).toBe(true);
    expect(() =>
      new DpSgd(model, {
        clipNorm: 1,
        noiseMultiplier: 2,
        samplingRate: 0.1,
        rng: seededRandom(3),
        optimizer: tf.train.sgd(0.1),
      }).noisyGradients(empty),
    ).toThrow(/expectedBatchSize/);
    tf.dispose([g, empty.x, empty.y, batch.x, batch.y]);
    disposeModel(model);
  });
});

describe('DpSgd steps', () => {
  it('moves the weights and records (σ, q, steps) for the accountant', () => {
    const { model, batch } = recommender();
    const before = modelVariables(model).map((v) => v.dataSync().slice());
    const dp = new DpSgd(model, {
      clipNorm: 1,
      noiseMultiplier: 1.1,
      samplingRate: 0.05,
      rng: seededRandom(4),
      optimizer: tf.train.adam(1e-2),
    });
    const tensorsBefore = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) dp.step(batch);
    expect(dp.log.events()).toEqual([
      { mechanism: 'gaussian', noiseMultiplier: 1.1, samplingRate: 0.05, steps: 3 },
    ]);
    modelVariables(model).forEach((v, i) =>
      expect(Array.from(v.dataSync())).not.toEqual(Array.from(before[i]!)),
    );
    // Adam creates its slot variables on the first step; nothing else may accumulate.
    dp.step(batch);
    const afterFirst = tf.memory().numTensors;
    dp.step(batch);
    expect(tf.memory().numTensors).toBe(afterFirst);
    expect(afterFirst).toBeGreaterThanOrEqual(tensorsBefore);
    tf.dispose([batch.x, batch.y]);
    disposeModel(model);
  });

  it('rejects invalid options by name', () => {
    const { model, batch } = mlp();
    const base = {
      clipNorm: 1,
      noiseMultiplier: 1,
      samplingRate: 0.1,
      rng: seededRandom(1),
      optimizer: tf.train.sgd(0.1),
    };
    expect(() => new DpSgd(model, { ...base, clipNorm: 0 })).toThrow(/clipNorm/);
    expect(() => new DpSgd(model, { ...base, noiseMultiplier: -1 })).toThrow(/noiseMultiplier/);
    expect(() => new DpSgd(model, { ...base, samplingRate: 1.5 })).toThrow(/samplingRate/);
    expect(() => new DpSgd(model, { ...base, expectedBatchSize: 0 })).toThrow(/expectedBatchSize/);
    tf.dispose([batch.x, batch.y]);
    disposeModel(model);
  });
});
