import * as tf from '@tensorflow/tfjs-core';
import type { DenseLayer, EmbeddingLayer, PlainModel } from './model';

/** Mean of the embedding rows of each example's ids: ids int32 [B, L] → [B, dim]. */
export function embedMean(layer: EmbeddingLayer, ids: tf.Tensor2D): tf.Tensor2D {
  return tf.mean<tf.Tensor2D>(tf.gather(layer.table, ids), 1);
}

function denseForward(layer: DenseLayer, h: tf.Tensor2D): tf.Tensor2D {
  if (layer.activation === 'tanh') {
    return tf.tanh(tf.add<tf.Tensor2D>(tf.matMul(h, layer.w), layer.b));
  }
  // One fused kernel (matmul + bias + activation) where TF.js can fuse it.
  return tf.fused.matMul({
    a: h,
    b: layer.w,
    bias: layer.b,
    activation: layer.activation,
  }) as tf.Tensor2D;
}

/**
 * The model's logits [B, out] for inputs `x` (features [B, in], or int32 ids [B, L] when the
 * model starts with an embedding), plus a fixed `offset` ([B, out] or [1, out]) when given. The
 * plain, non-private path: one fused kernel per layer.
 *
 * @example
 * const z = logits(model, x);
 */
export function logits(model: PlainModel, x: tf.Tensor2D, offset?: tf.Tensor2D): tf.Tensor2D {
  let h = model.embedding ? embedMean(model.embedding, x) : x;
  for (const layer of model.dense) h = denseForward(layer, h);
  return offset ? tf.add<tf.Tensor2D>(h, offset) : h;
}

/** A forward pass with what backpropagation by hand needs. */
export interface ForwardTrace {
  /** The input of each dense layer, [B, in_l] (the pooled embedding or the features first). */
  readonly inputs: tf.Tensor2D[];
  /** The output of the last dense layer, [B, out]. */
  readonly logits: tf.Tensor2D;
}

/**
 * {@link logits}, keeping each dense layer's input: the activations a_l that per-example gradient
 * norms and weight gradients are computed from. No gradient tape is involved. The fixed `offset`
 * is part of the logits (the loss sees it) but, being constant, changes no backward formula.
 */
export function forwardTrace(
  model: PlainModel,
  x: tf.Tensor2D,
  offset?: tf.Tensor2D,
): ForwardTrace {
  const inputs: tf.Tensor2D[] = [];
  let h = model.embedding ? embedMean(model.embedding, x) : x;
  for (const layer of model.dense) {
    inputs.push(h);
    h = denseForward(layer, h);
  }
  return { inputs, logits: offset ? tf.add<tf.Tensor2D>(h, offset) : h };
}
