import type { ClipResult, FloatVector } from '../dp/clip';
import { l2Clip } from '../dp/clip';

/**
 * The node's half of {@link withCentralDp}: clips a member's update Δ = w_local − w_global to L2
 * norm at most `clipNorm` before it enters secure aggregation (Abadi et al. 2016, Alg. 1;
 * McMahan et al. 2018, DP-FedAvg). Delegates to the DP package's `l2Clip`, which keeps the bound
 * after floating-point rounding and never modifies its input. L2 ≤ C also bounds every coordinate
 * by C, so the result fits a secure-aggregation round configured with `clipRange: C`.
 *
 * Returns the clipped copy, the norm before clipping (adaptive clipping needs "was ‖Δ‖ ≤ C?") and
 * the factor applied. Throws InvalidArgument for a bad vector type or clip norm, InvalidInput for
 * NaN/Infinity in the update.
 *
 * @example
 * const delta = subtract(localWeights, globalWeights); // Float32Array
 * const { clipped, norm } = clipUpdate(delta, 1.0);
 * // submit `clipped` to secure aggregation with weight 1
 */
export function clipUpdate<V extends FloatVector>(delta: V, clipNorm: number): ClipResult<V> {
  return l2Clip(delta, clipNorm);
}
