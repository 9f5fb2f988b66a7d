import { gaussianVector } from '@coopfl/protocol/dp';
import * as tf from '@tensorflow/tfjs-core';
import type { RandomSource } from '@coopfl/protocol';
import { CoopNodeError } from '../errors';
import { clippedGradientSum } from './clipped-grads';
import { modelVariables, type Batch, type PlainModel } from './model';
import { DpStepLog } from './step-log';

/** Options of {@link DpSgd}: one object, as everywhere in CoopFL. */
export interface DpSgdOptions {
  /**
   * Per-example clip norm C. Smaller C bounds each record's influence more tightly but biases
   * the gradient of examples whose norm exceeds it; noise std scales with C.
   */
  readonly clipNorm: number;
  /** Noise multiplier σ: Gaussian noise of std σ·C is added to the clipped sum. 0 disables noise. */
  readonly noiseMultiplier: number;
  /** Sampling rate q (expected batch size / number of records), recorded for the accountant. */
  readonly samplingRate: number;
  /**
   * What the noisy sum is divided by. With Poisson sampling pass the expected batch size q·N: the
   * actual size depends on the data and must not be used. Default: the actual batch size
   * (fixed-size batches).
   */
  readonly expectedBatchSize?: number;
  /** Source of the noise: `systemRandom()` in production, `seededRandom(…)` in tests. */
  readonly rng: RandomSource;
  /** Applied to the noisy mean gradient, e.g. `tf.train.adam(1e-3)`. */
  readonly optimizer: tf.Optimizer;
  /** Where steps are recorded; a new log by default. */
  readonly log?: DpStepLog;
}

function checkOptions(o: DpSgdOptions): void {
  if (!(Number.isFinite(o.clipNorm) && o.clipNorm > 0)) {
    throw new CoopNodeError('InvalidArgument', 'clipNorm must be a positive finite number');
  }
  if (!(Number.isFinite(o.noiseMultiplier) && o.noiseMultiplier >= 0)) {
    throw new CoopNodeError(
      'InvalidArgument',
      'noiseMultiplier must be a non-negative finite number',
    );
  }
  if (!(o.samplingRate > 0 && o.samplingRate <= 1)) {
    throw new CoopNodeError('InvalidArgument', 'samplingRate must be in (0, 1]');
  }
  if (
    o.expectedBatchSize !== undefined &&
    !(Number.isFinite(o.expectedBatchSize) && o.expectedBatchSize > 0)
  ) {
    throw new CoopNodeError(
      'InvalidArgument',
      'expectedBatchSize must be a positive finite number',
    );
  }
}

/**
 * Record-level DP-SGD for a {@link PlainModel}: per-example clipping to C (ghost norms, no
 * per-example gradients), Gaussian noise N(0, σ²C²) on each coordinate of the clipped sum drawn
 * from an injected CSPRNG, division by the (expected) batch size, then an optimizer step. Each
 * release of a noisy gradient is recorded in {@link DpSgd.log}.
 *
 * A step returns nothing about the batch (not even its loss): anything computed from the
 * private batch without noise would escape the accounting.
 *
 * @example
 * await cryptoReady();
 * const dp = new DpSgd(model, { clipNorm: 1, noiseMultiplier: 1.1, samplingRate: 256 / n,
 *   rng: systemRandom(), optimizer: tf.train.adam(1e-3) });
 * for (const batch of batches) dp.step(batch);
 * for (const e of dp.log.events()) ledger = ledger.with({ ...e, modelId, memberId, unit: 'record', at });
 */
export class DpSgd {
  readonly log: DpStepLog;
  readonly #model: PlainModel;
  readonly #opts: DpSgdOptions;

  constructor(model: PlainModel, opts: DpSgdOptions) {
    checkOptions(opts);
    this.#model = model;
    this.#opts = opts;
    this.log = opts.log ?? new DpStepLog();
  }

  /**
   * The privatised mean gradient (Σ_i clip(∇loss_i) + N(0, σ²C²·I)) / B, keyed by variable name.
   * Records one step in {@link DpSgd.log}. The caller disposes the returned tensors.
   */
  noisyGradients(batch: Batch): tf.NamedTensorMap {
    const { clipNorm, noiseMultiplier, samplingRate, rng } = this.#opts;
    const size = batch.x.shape[0];
    const denominator = this.#opts.expectedBatchSize ?? size;
    if (denominator === 0) {
      throw new CoopNodeError(
        'InvalidArgument',
        'an empty batch needs expectedBatchSize (Poisson sampling)',
      );
    }
    const vars = modelVariables(this.#model);
    let sums: tf.NamedTensorMap;
    if (size === 0) {
      sums = Object.fromEntries(vars.map((v) => [v.name, tf.zerosLike(v)]));
    } else {
      const clipped = clippedGradientSum(this.#model, batch, clipNorm);
      clipped.norms.dispose();
      clipped.factors.dispose();
      sums = clipped.sums;
    }
    const std = noiseMultiplier * clipNorm;
    // One draw for all coordinates: the noise stream reads the CSPRNG in 4 kB blocks, so a draw
    // per variable would waste most of a block on every bias.
    const total = vars.reduce((n, v) => n + v.size, 0);
    const noise = std > 0 ? gaussianVector(rng, { length: total, stddev: std }) : undefined;
    let offset = 0;
    const out: tf.NamedTensorMap = {};
    for (const v of vars) {
      const sum = sums[v.name]!;
      // On the host: one read and one upload instead of three element-wise kernels. float32
      // throughout, as on the device: (sum + noise) rounded, then divided.
      const values = Float32Array.from(sum.dataSync());
      sum.dispose();
      if (noise) {
        for (let k = 0; k < values.length; k++) {
          values[k] = values[k]! + Math.fround(noise[offset + k]!);
        }
      }
      offset += v.size;
      for (let k = 0; k < values.length; k++) values[k] = values[k]! / denominator;
      out[v.name] = tf.tensor(values, v.shape, 'float32');
    }
    this.log.record(noiseMultiplier, samplingRate);
    return out;
  }

  /** One DP-SGD step on `batch`: noisy mean gradient, then the optimizer's update. */
  step(batch: Batch): void {
    const grads = this.noisyGradients(batch);
    try {
      this.#opts.optimizer.applyGradients(grads);
    } finally {
      tf.dispose(grads);
    }
  }
}
