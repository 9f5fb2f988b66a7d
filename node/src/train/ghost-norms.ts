import * as tf from '@tensorflow/tfjs-core';
import { hostValues } from '../tf/host-values';

/**
 * ‖x_i‖² of each row of a matrix [B, n] → [B], as B dot products x_i·x_i in one batched matmul:
 * on wasm that is ~4× faster than square-then-sum for wide layers (no [B, n] temporary).
 */
export function rowSqNorms(x: tf.Tensor2D): tf.Tensor1D {
  const [rows, cols] = x.shape;
  return tf.reshape(tf.matMul(tf.reshape(x, [rows, 1, cols]), tf.reshape(x, [rows, cols, 1])), [
    rows,
  ]);
}

/**
 * Squared norm of each example's gradient for a dense layer (W and b together), from the layer's
 * input `a` [B, in] and the gradient `g` [B, out] of the example's loss with respect to the
 * layer's pre-activation. The per-example gradient of W is the outer product a_i ⊗ g_i, so its
 * squared Frobenius norm is ‖a_i‖²·‖g_i‖², and the bias gradient is g_i itself (Goodfellow 2015,
 * "Efficient per-example gradient computations"): O(B·(in+out)) instead of O(B·in·out).
 */
export function denseSqNorms(a: tf.Tensor2D, g: tf.Tensor2D): tf.Tensor1D {
  return tf.mul<tf.Tensor1D>(tf.add(rowSqNorms(a), 1), rowSqNorms(g));
}

/**
 * Σ_r count_ir² for each example, where count_ir is how often row r occurs among the example's
 * ids [B, L]: equivalently the number of pairs (j, k) with id_ij = id_ik. L for distinct ids,
 * L² when all ids are equal. Counted on the host: B·L² comparisons on a few kB of ids.
 */
export function idMultiplicity(ids: tf.Tensor2D): tf.Tensor1D {
  return tf.tensor1d(Float32Array.from(idPairCounts(ids)));
}

/** {@link idMultiplicity} on the host, float64. */
export function idPairCounts(ids: tf.Tensor2D): Float64Array {
  const [rows, perRow] = ids.shape;
  const v = hostValues(ids);
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const o = i * perRow;
    let pairs = perRow; // j = k
    for (let j = 0; j < perRow; j++) {
      for (let k = j + 1; k < perRow; k++) if (v[o + j] === v[o + k]) pairs += 2;
    }
    out[i] = pairs;
  }
  return out;
}

/** {@link rowSqNorms} on the host, accumulated in float64. */
export function hostRowSqNorms(x: tf.Tensor2D): Float64Array {
  const [rows, cols] = x.shape;
  const v = hostValues(x);
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    let s = 0;
    for (let k = 0; k < cols; k++) {
      const e = v[o + k]!;
      s += e * e;
    }
    out[i] = s;
  }
  return out;
}

/**
 * ‖∇loss_i‖² over all parameters of each example, [B] in float64: Σ_l {@link denseSqNorms} of
 * each dense layer's input a_l and output gradient g_l, plus {@link embeddingSqNorms} when the
 * model starts with an embedding (`dInput` the gradient at the pooled vector, `ids` the inputs).
 * The same closed forms, computed on the host from one read of each tensor: O(B·Σ(in+out))
 * multiply-adds, far less than the ~10 small kernels per layer the device version dispatches
 * (on R1/R2 the kernels' overhead exceeded the arithmetic).
 */
export function hostPerExampleSqNorms(
  inputs: readonly tf.Tensor2D[],
  dz: readonly tf.Tensor2D[],
  embedding?: { readonly ids: tf.Tensor2D; readonly dInput: tf.Tensor2D },
): Float64Array {
  const size = dz[0]!.shape[0];
  const sq = new Float64Array(size);
  dz.forEach((g, l) => {
    const a = hostRowSqNorms(inputs[l]!);
    const gg = hostRowSqNorms(g);
    for (let i = 0; i < size; i++) sq[i] = sq[i]! + (a[i]! + 1) * gg[i]!;
  });
  if (embedding) {
    const perExample = embedding.ids.shape[1];
    const pairs = idPairCounts(embedding.ids);
    const gg = hostRowSqNorms(embedding.dInput);
    for (let i = 0; i < size; i++) {
      sq[i] = sq[i]! + (gg[i]! * pairs[i]!) / (perExample * perExample);
    }
  }
  return sq;
}

/**
 * Squared norm of each example's gradient for a mean-pooled embedding table. With ids
 * id_i1…id_iL and g_i the gradient with respect to the pooled vector, row r of the example's
 * table gradient is (count_ir / L)·g_i, so the squared norm is ‖g_i‖²·Σ_r count_ir² / L² —
 * exact with repeated ids, and never materialising a [vocab, dim] gradient per example.
 */
export function embeddingSqNorms(ids: tf.Tensor2D, gPooled: tf.Tensor2D): tf.Tensor1D {
  const idsPerExample = ids.shape[1];
  return tf.mul<tf.Tensor1D>(
    rowSqNorms(gPooled),
    tf.div(idMultiplicity(ids), idsPerExample * idsPerExample),
  );
}
