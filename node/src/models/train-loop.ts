import * as tf from '@tensorflow/tfjs-core';
import { randomBelow } from '@coopfl/protocol';
import type { Architecture } from '@coopfl/protocol/models';
import { CoopNodeError } from '../errors';
import { logits } from '../train/forward';
import { DpSgd } from '../train/dpsgd';
import { FusedAdam } from '../train/fused-adam';
import { disposeModel, modelVariables, type Batch, type PlainModel } from '../train/model';
import { batchGradients } from '../train/plain-step';
import type { LocalTrainingConfig, LocalTrainingResult } from './types';
import { modelFromWeights, weightsOf } from './weights';

/**
 * A model kind's examples as dense host arrays: row `i` of `x` is `x[i·width … (i+1)·width)`;
 * targets are `yWidth` floats per row, or one int32 class id per row (`Int32Array`).
 */
export interface ExampleSet {
  readonly x: Float32Array | Int32Array;
  readonly width: number;
  readonly y: Float32Array | Int32Array;
  readonly yWidth: number;
  /** Rows in the set. */
  readonly size: number;
  /** A fixed term added to each row's logits (see {@link LogitOffset}). */
  readonly logitOffset?: LogitOffset;
}

/**
 * Fixed logit offsets, not trained: row `i` of a set adds row `rows[i]` of `table` (rows of the
 * model's output width) to its logits, or the table's single row when `rows` is null. The
 * recommendation model adds its shop's own log-popularity this way (a local prior the shared
 * network learns around); a pooled set of several shops keeps one table row per shop.
 */
export interface LogitOffset {
  readonly table: Float32Array;
  readonly rows: Int32Array | null;
}

/** The offset tensor of rows `idx` of a set: [n, out], or [1, out] when one row serves all. */
export function offsetBatch(offset: LogitOffset, idx: ArrayLike<number>, out: number): tf.Tensor2D {
  if (!offset.rows) return tf.tensor2d(offset.table, [1, out]);
  const n = idx.length;
  const values = new Float32Array(n * out);
  for (let r = 0; r < n; r++) {
    const row = offset.rows[idx[r]!]!;
    values.set(offset.table.subarray(row * out, (row + 1) * out), r * out);
  }
  return tf.tensor2d(values, [n, out]);
}

/** Options of {@link trainLocal} beyond the task's config. */
export interface TrainLocalOptions {
  /**
   * Row indices making up one epoch before shuffling, repeats allowed (fraud oversamples its rare
   * positives this way). Default: every row once. Ignored under record-level DP, where each
   * record must appear at most once per epoch for the accounting at q = batchSize / examples.
   */
  readonly epochRows?: Int32Array;
}

function checkConfig(cfg: LocalTrainingConfig): void {
  if (!Number.isInteger(cfg.epochs) || cfg.epochs < 1) {
    throw new CoopNodeError('InvalidArgument', 'epochs must be a positive integer');
  }
  if (!(Number.isFinite(cfg.learningRate) && cfg.learningRate > 0)) {
    throw new CoopNodeError('InvalidArgument', 'learningRate must be a positive finite number');
  }
  if (!Number.isInteger(cfg.batchSize) || cfg.batchSize < 1) {
    throw new CoopNodeError('InvalidArgument', 'batchSize must be a positive integer');
  }
  if (!(Number.isFinite(cfg.mu) && cfg.mu >= 0)) {
    throw new CoopNodeError('InvalidArgument', 'mu must be a non-negative finite number');
  }
}

/** Fisher–Yates shuffle in place, from the task's random source (never `Math.random`). */
export function shuffleInPlace(rows: Int32Array, cfg: Pick<LocalTrainingConfig, 'random'>): void {
  for (let i = rows.length - 1; i > 0; i--) {
    const j = randomBelow(cfg.random, i + 1);
    const t = rows[i]!;
    rows[i] = rows[j]!;
    rows[j] = t;
  }
}

/** Gathers rows `idx` of a set into a batch of tensors (the caller disposes them). */
export function gatherBatch(set: ExampleSet, idx: ArrayLike<number>, outputs: number): Batch {
  const n = idx.length;
  const xs =
    set.x instanceof Int32Array ? new Int32Array(n * set.width) : new Float32Array(n * set.width);
  for (let r = 0; r < n; r++) {
    const i = idx[r]!;
    xs.set(set.x.subarray(i * set.width, (i + 1) * set.width), r * set.width);
  }
  const x = tf.tensor2d(xs, [n, set.width], xs instanceof Int32Array ? 'int32' : 'float32');
  let y: tf.Tensor;
  if (set.y instanceof Int32Array) {
    const ys = new Int32Array(n);
    for (let r = 0; r < n; r++) ys[r] = set.y[idx[r]!]!;
    y = tf.tensor1d(ys, 'int32');
  } else {
    const ys = new Float32Array(n * set.yWidth);
    for (let r = 0; r < n; r++) {
      const i = idx[r]!;
      ys.set(set.y.subarray(i * set.yWidth, (i + 1) * set.yWidth), r * set.yWidth);
    }
    y = tf.tensor2d(ys, [n, set.yWidth], 'float32');
  }
  return set.logitOffset ? { x, y, offset: offsetBatch(set.logitOffset, idx, outputs) } : { x, y };
}

/** Adds μ·(w − w_global) to each gradient: FedProx's proximal term, in place of `grads`. */
function addProximal(
  grads: tf.NamedTensorMap,
  vars: readonly tf.Variable[],
  global: ReadonlyMap<string, tf.Tensor>,
  mu: number,
): void {
  for (const v of vars) {
    const g = grads[v.name];
    const w0 = global.get(v.name);
    if (!g || !w0) continue;
    grads[v.name] = tf.tidy(() => tf.add(g, tf.mul(tf.sub(v, w0), mu)));
    g.dispose();
  }
}

/**
 * Local training shared by the three models: `epochs` passes over the training rows in shuffled
 * mini-batches, Adam at the task's learning rate, FedProx's proximal term when μ > 0 (the term is
 * data-independent, so adding it after DP noise costs no privacy), and record-level DP-SGD
 * (per-example clipping + Gaussian noise, sampling rate batchSize / examples) when
 * `cfg.recordDp` is set. Under DP only full batches are used, so each step matches its accounting.
 *
 * @throws CoopNodeError `InsufficientData` when the set is empty; `InvalidArgument` for a bad
 *   config or a weight vector of the wrong length.
 * @example
 * const result = await trainLocal(arch, global, data.train, cfg);
 */
export async function trainLocal(
  arch: Architecture,
  global: Float32Array,
  set: ExampleSet,
  cfg: LocalTrainingConfig,
  opts: TrainLocalOptions = {},
): Promise<LocalTrainingResult> {
  checkConfig(cfg);
  if (set.size === 0) {
    throw new CoopNodeError('InsufficientData', 'no training examples on this shop');
  }
  const model = modelFromWeights(arch, global);
  const vars = modelVariables(model);
  const globalVars = new Map<string, tf.Tensor>();
  if (cfg.mu > 0) for (const v of vars) globalVars.set(v.name, tf.clone(v));
  const optimizer = new FusedAdam({ learningRate: cfg.learningRate });
  const batchSize = Math.min(cfg.batchSize, set.size);
  const dp = cfg.recordDp
    ? new DpSgd(model, {
        clipNorm: cfg.recordDp.clipNorm,
        noiseMultiplier: cfg.recordDp.noiseMultiplier,
        samplingRate: batchSize / set.size,
        rng: cfg.random,
        optimizer,
      })
    : undefined;
  const base =
    !dp && opts.epochRows ? opts.epochRows : Int32Array.from({ length: set.size }, (_, i) => i);
  const rows = Int32Array.from(base);
  try {
    for (let epoch = 0; epoch < cfg.epochs; epoch++) {
      shuffleInPlace(rows, cfg);
      const end = dp ? rows.length - (rows.length % batchSize) : rows.length;
      for (let start = 0; start < end; start += batchSize) {
        step(model, set, rows.subarray(start, Math.min(end, start + batchSize)), {
          dp,
          optimizer,
          vars,
          globalVars,
          mu: cfg.mu,
        });
      }
      cfg.onEpoch?.(epoch + 1, cfg.epochs, () => weightsOf(model));
      // Let the event loop breathe between epochs (progress output, HTTP of the daemon).
      await new Promise((resolve) => setImmediate(resolve));
    }
    return { weights: weightsOf(model), examples: set.size, dpEvents: dp ? dp.log.events() : [] };
  } finally {
    tf.dispose([...globalVars.values()]);
    optimizer.dispose();
    disposeModel(model);
  }
}

function step(
  model: PlainModel,
  set: ExampleSet,
  idx: Int32Array,
  s: {
    dp: DpSgd | undefined;
    optimizer: tf.Optimizer;
    vars: readonly tf.Variable[];
    globalVars: ReadonlyMap<string, tf.Tensor>;
    mu: number;
  },
): void {
  const batch = gatherBatch(set, idx, outputsOf(model));
  let grads: tf.NamedTensorMap | undefined;
  try {
    grads = s.dp ? s.dp.noisyGradients(batch) : batchGradients(model, batch);
    if (s.mu > 0) addProximal(grads, s.vars, s.globalVars, s.mu);
    s.optimizer.applyGradients(grads);
  } finally {
    if (grads) tf.dispose(grads);
    tf.dispose([batch.x, batch.y, ...(batch.offset ? [batch.offset] : [])]);
  }
}

/** The width of a model's output layer. */
export const outputsOf = (model: PlainModel): number =>
  model.dense[model.dense.length - 1]!.b.shape[0];

/**
 * The model's outputs for every row of `set`, in chunks (a recommendation batch's logits are
 * [B, vocab]), with the set's logit offset added; `transform` maps a chunk's logits on the device
 * (e.g. sigmoid) before reading.
 */
export function predictAll(
  model: PlainModel,
  set: Pick<ExampleSet, 'x' | 'width' | 'size' | 'logitOffset'>,
  transform: (z: tf.Tensor2D) => tf.Tensor2D = (z) => z,
  chunk = 512,
): Float32Array {
  const out: Float32Array[] = [];
  for (let start = 0; start < set.size; start += chunk) {
    const n = Math.min(chunk, set.size - start);
    const values = readTidy(() => {
      const slice = set.x.subarray(start * set.width, (start + n) * set.width);
      const x = tf.tensor2d(
        slice,
        [n, set.width],
        slice instanceof Int32Array ? 'int32' : 'float32',
      );
      const offset = set.logitOffset
        ? offsetBatch(set.logitOffset, rowRange(start, n), outputsOf(model))
        : undefined;
      return transform(logits(model, x, offset));
    });
    out.push(values);
  }
  const total = new Float32Array(out.reduce((n, a) => n + a.length, 0));
  let o = 0;
  for (const a of out) {
    total.set(a, o);
    o += a.length;
  }
  return total;
}

/**
 * The values of the tensor `fn` computes, its intermediates freed. Read outside `tf.tidy`:
 * returning the typed array from the tidy callback makes tidy walk it element by element looking
 * for tensors (a [256, 1024] block of logits cost ≈ 0.3 s that way, more than computing it).
 */
export function readTidy(fn: () => tf.Tensor): Float32Array {
  const t = tf.tidy(fn);
  try {
    return t.dataSync() as Float32Array;
  } finally {
    t.dispose();
  }
}

/** Row indices start … start + n − 1. */
export const rowRange = (start: number, n: number): Int32Array =>
  Int32Array.from({ length: n }, (_, i) => start + i);

/** The empty example set (a split without examples). */
export function emptySet(width: number, yWidth: number, classIds = false): ExampleSet {
  return {
    x: classIds ? new Int32Array(0) : new Float32Array(0),
    width,
    y: classIds ? new Int32Array(0) : new Float32Array(0),
    yWidth,
    size: 0,
  };
}
