import * as tf from '@tensorflow/tfjs-core';
import type { Architecture } from '@coopfl/protocol/models';
import { CoopNodeError } from '../errors';

/** Activations a dense layer may apply. The output layer must be `linear`: losses take logits. */
export type Activation = 'relu' | 'sigmoid' | 'tanh' | 'linear';

/** `y = act(x·W + b)`, with `W` of shape [in, out] and `b` of shape [out]. */
export interface DenseLayer {
  readonly kind: 'dense';
  readonly w: tf.Variable;
  readonly b: tf.Variable;
  readonly activation: Activation;
}

/** A lookup table [vocab, dim], mean-pooled over the fixed number of ids each example carries. */
export interface EmbeddingLayer {
  readonly kind: 'embedding';
  readonly table: tf.Variable;
}

/**
 * Losses, all computed from logits (numerically stable and, for a 5,000-way softmax, 1.6× faster
 * than from probabilities: performance note 2). `mse` and `mae` take float targets [B] or
 * [B, out]; `bce-logits` takes 0/1 targets of the same shapes; `softmax-ce-logits` takes int32
 * class ids [B]. `mae` fits the conditional median: the right target for WAPE, and for
 * intermittent demand, where the mean that `mse` fits is a poor point forecast.
 */
export type LossKind = Architecture['loss'];

/**
 * A model made of plain TF.js variables rather than `tf.layers`: an optional mean-pooled embedding
 * followed by dense layers. Plain variables keep the training step lean (no `model.fit`
 * overhead, performance note 5) and expose the per-layer activations that record-level DP-SGD
 * needs to compute per-example gradient norms without per-example gradients.
 */
export interface PlainModel {
  readonly embedding?: EmbeddingLayer;
  readonly dense: readonly DenseLayer[];
  readonly loss: LossKind;
}

/** What {@link buildModel} makes: input width (or embedding shape), layers, loss. */
export interface ModelSpec {
  /** Feature width, for models without an embedding. */
  readonly inputDim?: number;
  /** Vocabulary and width of a mean-pooled embedding; inputs are then int32 ids [B, L]. */
  readonly embedding?: { readonly vocab: number; readonly dim: number };
  readonly layers: readonly { readonly units: number; readonly activation: Activation }[];
  readonly loss: LossKind;
  /** Seed for the Glorot-uniform initialisation (not privacy-relevant), for reproducible tests. */
  readonly seed?: number;
}

function checkPositiveInt(name: string, v: number | undefined): number {
  if (v === undefined || !Number.isInteger(v) || v < 1) {
    throw new CoopNodeError('InvalidArgument', `${name} must be a positive integer`);
  }
  return v;
}

/** Wraps an initial value in a variable and frees the initial tensor (the variable keeps the data). */
function toVariable(init: tf.Tensor): tf.Variable {
  const v = tf.variable(init);
  init.dispose();
  return v;
}

function glorot(shape: [number, number], seed: number | undefined): tf.Tensor {
  const limit = Math.sqrt(6 / (shape[0] + shape[1]));
  return tf.randomUniform(shape, -limit, limit, 'float32', seed);
}

/**
 * Builds a {@link PlainModel} with Glorot-uniform weights and zero biases (embedding rows uniform
 * in ±0.05, as Keras does). Variables get unique TF.js names, which optimizers key state by.
 *
 * @example
 * const r2 = buildModel({ inputDim: 32, layers: [
 *   { units: 64, activation: 'relu' }, { units: 32, activation: 'relu' },
 *   { units: 1, activation: 'linear' }], loss: 'bce-logits' });
 */
export function buildModel(spec: ModelSpec): PlainModel {
  if (spec.layers.length === 0)
    throw new CoopNodeError('InvalidModel', 'a model needs at least one dense layer');
  const last = spec.layers[spec.layers.length - 1]!;
  if (last.activation !== 'linear') {
    throw new CoopNodeError(
      'InvalidModel',
      'the output layer must be linear: losses are computed from logits',
    );
  }
  let seed = spec.seed;
  const nextSeed = (): number | undefined => (seed === undefined ? undefined : seed++);
  let width: number;
  let embedding: EmbeddingLayer | undefined;
  if (spec.embedding) {
    const vocab = checkPositiveInt('embedding.vocab', spec.embedding.vocab);
    width = checkPositiveInt('embedding.dim', spec.embedding.dim);
    const table = toVariable(tf.randomUniform([vocab, width], -0.05, 0.05, 'float32', nextSeed()));
    embedding = { kind: 'embedding', table };
  } else {
    width = checkPositiveInt('inputDim', spec.inputDim);
  }
  const dense = spec.layers.map((l): DenseLayer => {
    const units = checkPositiveInt('units', l.units);
    const w = toVariable(glorot([width, units], nextSeed()));
    const b = toVariable(tf.zeros([units]));
    width = units;
    return { kind: 'dense', w, b, activation: l.activation };
  });
  return embedding ? { embedding, dense, loss: spec.loss } : { dense, loss: spec.loss };
}

/** All trainable variables of a model, embedding first, in a stable order. */
export function modelVariables(model: PlainModel): tf.Variable[] {
  const vars = model.embedding ? [model.embedding.table] : [];
  for (const l of model.dense) vars.push(l.w, l.b);
  return vars;
}

/** Disposes a model's variables (TF.js does not garbage-collect tensor memory). */
export function disposeModel(model: PlainModel): void {
  for (const v of modelVariables(model)) v.dispose();
}

/**
 * One batch: `x` is features [B, in] (float32) or ids [B, L] (int32) for an embedding model; `y`
 * holds targets as {@link LossKind} describes. `offset` ([B, out], or [1, out] for every row) is a
 * fixed term added to the logits before the loss — not a variable, so it gets no gradient (the
 * recommendation model's local popularity prior). Tensors stay owned by the caller.
 */
export interface Batch {
  readonly x: tf.Tensor2D;
  readonly y: tf.Tensor;
  readonly offset?: tf.Tensor2D;
}
