import * as tf from '@tensorflow/tfjs-core';
import type { OutputGradients } from './backprop';
import type { ForwardTrace } from './forward';
import type { PlainModel } from './model';
import { hostValues, newFloatTensor } from '../tf/host-values';

/**
 * The gradient of a mean-pooled embedding table [vocab, dim]: example i's gradient at the pooled
 * vector, times w_i/L, added to the row of each of its L ids (ids outside [0, vocab) are dropped,
 * as `tf.unsortedSegmentSum` drops them). One host pass over B·L·dim values, written straight into
 * the new tensor, instead of five kernels and two copies of the [vocab, dim] result.
 */
function embeddingGradient(
  ids: tf.Tensor2D,
  dPooled: tf.Tensor2D,
  vocab: number,
  weights?: tf.Tensor1D,
): tf.Tensor2D {
  const [size, perExample] = ids.shape;
  const dim = dPooled.shape[1];
  const { out, value } = newFloatTensor([vocab, dim]);
  // Views after the allocation above (which may move the wasm heap).
  const idv = hostValues(ids);
  const g = hostValues(dPooled);
  const w = weights ? hostValues(weights) : undefined;
  out.fill(0);
  for (let i = 0; i < size; i++) {
    const scale = (w ? w[i]! : 1) / perExample;
    const src = i * dim;
    for (let j = 0; j < perExample; j++) {
      const row = idv[i * perExample + j]!;
      if (!(row >= 0 && row < vocab)) continue;
      const dst = row * dim;
      for (let k = 0; k < dim; k++) out[dst + k] = out[dst + k]! + scale * g[src + k]!;
    }
  }
  return value() as tf.Tensor2D;
}

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
    const table = model.embedding.table;
    sums[table.name] = embeddingGradient(ids, grads.dInput, table.shape[0], weights);
  }
  model.dense.forEach((layer, l) => {
    const a = trace.inputs[l]!;
    const g = grads.dz[l]!;
    sums[layer.w.name] = tf.matMul(column ? tf.mul(a, column) : a, g, true, false);
    sums[layer.b.name] = tf.reshape(tf.matMul(row, g), [-1]);
  });
  return sums;
}
