import { ProtocolError } from '../errors';

/** A float vector as the models produce it. */
export type FloatVector = Float32Array | Float64Array;

/** Result of {@link l2Clip}: the clipped copy, its norm before clipping, and the factor applied. */
export interface ClipResult<V extends FloatVector> {
  /** A new vector of the same type with L2 norm ≤ clipNorm. The input is never modified. */
  clipped: V;
  /** The L2 norm of the input (needed by adaptive clipping: was it ≤ C?). */
  norm: number;
  /** The factor the input was multiplied by (1 when it was already inside the ball). */
  scale: number;
}

const U64 = 2 ** -52;
const U32 = 2 ** -22;

/**
 * Clips a vector to L2 norm at most `clipNorm` (Abadi et al. 2016, "Deep Learning with
 * Differential Privacy", Alg. 1; McMahan et al. 2018, DP-FedAvg): x · min(1, C/‖x‖). Clipping is what
 * bounds a member's influence on the sum (the L2 sensitivity is C), so the bound must hold after
 * floating-point rounding too: the factor is shrunk by a relative (d + 4)·2⁻⁵² (float64) or
 * 2⁻²² + (d + 4)·2⁻⁵² (float32) — more than the rounding error of the norm and of the products —
 * which biases the result by less than 1e-6 relative.
 *
 * Trade-off: a small C adds bias (large updates are shrunk), a large C adds noise (σ = z·C).
 * Adaptive clipping ({@link adaptiveClipUpdate}) tracks a quantile of the update norms instead.
 *
 * @example
 * const { clipped, norm } = l2Clip(new Float32Array([3, 4]), 1);
 * // norm = 5; clipped ≈ [0.6, 0.8]
 */
export function l2Clip<V extends FloatVector>(vector: V, clipNorm: number): ClipResult<V> {
  if (!(vector instanceof Float32Array) && !(vector instanceof Float64Array)) {
    throw new ProtocolError('InvalidArgument', 'vector must be a Float32Array or Float64Array');
  }
  if (typeof clipNorm !== 'number' || !(clipNorm > 0) || !Number.isFinite(clipNorm)) {
    throw new ProtocolError('InvalidArgument', 'clipNorm must be a positive finite number');
  }
  const norm = l2Norm(vector);
  if (!Number.isFinite(norm)) {
    throw new ProtocolError('InvalidInput', 'vector holds NaN or Infinity');
  }
  const clipped = vector.slice() as V;
  if (norm <= clipNorm) return { clipped, norm, scale: 1 };
  const d = vector.length;
  const safety = (vector instanceof Float32Array ? U32 : 0) + (d + 4) * U64;
  const scale = (clipNorm / norm) * (1 - safety);
  for (let i = 0; i < d; i++) clipped[i] = vector[i]! * scale;
  return { clipped, norm, scale };
}

/**
 * The Euclidean norm, as a plain sum of squares in double precision (relative error ≤ (d + 3)·2⁻⁵³),
 * falling back to a max-scaled sum when that overflows or underflows.
 *
 * @example
 * l2Norm(new Float64Array([3, 4])); // 5
 */
export function l2Norm(vector: FloatVector): number {
  let ssq = 0;
  for (let i = 0; i < vector.length; i++) {
    const v = vector[i]!;
    ssq += v * v;
  }
  if (Number.isNaN(ssq)) return NaN;
  if (ssq < 1e300 && ssq > 1e-290) return Math.sqrt(ssq);
  let max = 0;
  for (let i = 0; i < vector.length; i++) max = Math.max(max, Math.abs(vector[i]!));
  if (max === 0 || !Number.isFinite(max)) return max;
  let scaled = 0;
  for (let i = 0; i < vector.length; i++) {
    const r = vector[i]! / max;
    scaled += r * r;
  }
  return max * Math.sqrt(scaled);
}
