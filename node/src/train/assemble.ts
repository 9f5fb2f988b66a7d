import * as tf from '@tensorflow/tfjs-core';
import type { OutputGradients } from './backprop';
import type { ForwardTrace } from './forward';
import type { PlainModel } from './model';

/**
 * Σ_i w_i·∇loss_i for every variable, from a forward trace and the per-example output gradients,
 * keyed by variable name: W_l ← (w ⊙ a_l)ᵀ·g_l, b_l ← wᵀ·g_l, and for a mean-pooled embedding
 * each of example i's L ids receives w_i·g_i/L. Weights `w` [B] default to 1 (the plain summed
 * gradient); DP-SGD passes its clip factors. Column sums are matrix products (XNNPACK) rather
 * than reductions over the batch axis, which the wasm backend runs slowly.
 */
export function assembleGradients(
  model: PlainModel,
  ids: tf.Tensor2D,
  trace: ForwardTrace,
  grads: OutputGradients,
  weights?: tf.Tensor1D,
): tf.NamedTensorMap {
  const size = trace.logits.shape[0];
  const row = weights ? tf.reshape(weights, [1, size]) : tf.ones([1, size]);
  const column = weights ? tf.reshape(weights, [size, 1]) : undefined;
  const sums: tf.NamedTensorMap = {};
  if (model.embedding && grads.dInput) {
    const perExample = ids.shape[1];
    const table = model.embedding.table;
    const weighted = column ? tf.mul(grads.dInput, column) : grads.dInput;
    const rowGrad = tf.div(weighted, perExample);
    // Repeat row i once per id of example i, then sum rows by id.
    const owner = tf.tensor1d(
      Int32Array.from({ length: size * perExample }, (_, k) => Math.floor(k / perExample)),
      'int32',
    );
    sums[table.name] = tf.unsortedSegmentSum(
      tf.gather(rowGrad, owner),
      tf.reshape(ids, [-1]),
      table.shape[0],
    );
  }
  model.dense.forEach((layer, l) => {
    const a = trace.inputs[l]!;
    const g = grads.dz[l]!;
    sums[layer.w.name] = tf.matMul(column ? tf.mul(a, column) : a, g, true, false);
    sums[layer.b.name] = tf.reshape(tf.matMul(row, g), [-1]);
  });
  return sums;
}
