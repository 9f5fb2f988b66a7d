import * as tf from '@tensorflow/tfjs-core';

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
  const [rows, perRow] = ids.shape;
  const v = ids.dataSync();
  const out = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    const o = i * perRow;
    let pairs = perRow; // j = k
    for (let j = 0; j < perRow; j++) {
      for (let k = j + 1; k < perRow; k++) if (v[o + j] === v[o + k]) pairs += 2;
    }
    out[i] = pairs;
  }
  return tf.tensor1d(out);
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
