import * as tf from '@tensorflow/tfjs-core';
import { CoopNodeError } from '../errors';
import { assembleGradients } from './assemble';
import { outputGradients } from './backprop';
import { forwardTrace } from './forward';
import { hostPerExampleSqNorms } from './ghost-norms';
import type { Batch, PlainModel } from './model';

/** The result of {@link clippedGradientSum}. All tensors are new; the caller disposes them. */
export interface ClippedGradients {
  /** Σ_i c_i·∇loss_i per variable, keyed by variable name (what optimizers key by). */
  readonly sums: tf.NamedTensorMap;
  /** ‖∇loss_i‖ of each example before clipping, [B]. */
  readonly norms: tf.Tensor1D;
  /** c_i = min(1, C/‖∇loss_i‖), [B]. */
  readonly factors: tf.Tensor1D;
}

/**
 * Clips each example's gradient to L2 norm `clipNorm` (C) over all parameters together and sums
 * the clipped gradients: Σ_i c_i·∇loss_i with c_i = min(1, C/‖∇loss_i‖) — the sensitivity-bounded
 * quantity of record-level DP-SGD (Abadi et al. 2016, Alg. 1) — without one gradient per example.
 *
 * One forward and one backward pass (see backprop.ts) give, for each dense layer, its input a_i
 * and the gradient g_i of loss_i with respect to its pre-activation (and, with an embedding, with
 * respect to the pooled vector). Per-example norms follow in closed form (ghost-norms.ts, on the
 * host: a few hundred thousand multiply-adds, cheaper than dispatching ~30 small kernels). The
 * backward pass is linear in each example's loss weight, so the gradient of the reweighted loss
 * Σ_i c_i·loss_i is assembled from the same a and g — ∂/∂W = Σ_i c_i·a_i ⊗ g_i = (c ⊙ a)ᵀ·g and
 * ∂/∂b = cᵀ·g — instead of running the backward pass a second time ("book-keeping", Bu et al.
 * 2023): identical values, less work.
 *
 * @example
 * const { sums, norms, factors } = clippedGradientSum(model, { x, y }, 1.0);
 */
export function clippedGradientSum(
  model: PlainModel,
  batch: Batch,
  clipNorm: number,
): ClippedGradients {
  if (!(Number.isFinite(clipNorm) && clipNorm > 0)) {
    throw new CoopNodeError('InvalidArgument', 'clipNorm must be a positive finite number');
  }
  const { x, y } = batch;
  const size = x.shape[0];
  return tf.tidy(() => {
    const trace = forwardTrace(model, x, batch.offset);
    const grads = outputGradients(model, trace, y);
    const { dz, dInput } = grads;

    const sq = hostPerExampleSqNorms(
      trace.inputs,
      dz,
      model.embedding && dInput ? { ids: x, dInput } : undefined,
    );
    const normValues = new Float32Array(size);
    const factorValues = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      const norm = Math.sqrt(sq[i]!);
      normValues[i] = norm;
      factorValues[i] = clipNorm / Math.max(norm, clipNorm);
    }
    const norms = tf.tensor1d(normValues);
    const factors = tf.tensor1d(factorValues);
    const sums = assembleGradients(model, x, trace, grads, factors);
    return { sums, norms, factors };
  });
}
