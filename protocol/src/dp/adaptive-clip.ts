import type { RandomSource } from '../crypto/random';
import { ProtocolError } from '../errors';
import { sampleGaussian } from './gaussian';

/**
 * Adaptive clipping after Andrew, Thakkar, McMahan & Ramaswamy 2021, "Differentially Private
 * Learning with Adaptive Clipping" (NeurIPS). Each round, every sampled client also reports one bit
 * bᵢ = [‖Δᵢ‖ ≤ C]; the server releases the noisy fraction b̃ = (Σbᵢ + N(0, σ_b²))/m and moves C
 * geometrically towards the target quantile γ: C ← C·exp(−η_C·(b̃ − γ)) (their Alg. 1/2).
 *
 * The bit count is a second Gaussian query on the same clients, so its privacy cost must be paid.
 * Their analysis (§3): the pair (update sum with noise multiplier z_Δ, count with std σ_b) is exactly as
 * private as one Gaussian query with noise multiplier
 *   z = (z_Δ^{−2} + (2σ_b)^{−2})^{−1/2}
 * (the centred bit bᵢ − ½ has sensitivity ½). So: pick the z the accountant allows, then run the
 * update with the larger z_Δ = (z^{−2} − (2σ_b)^{−2})^{−1/2}. The paper suggests σ_b = m/20.
 */

/**
 * The noise multiplier the accountant must charge for a round that releases both the update sum
 * (noise multiplier z_Δ) and the clipped-count (std σ_b): (z_Δ^{−2} + (2σ_b)^{−2})^{−1/2}
 * (Andrew et al. 2021, §3).
 *
 * @example
 * effectiveNoiseMultiplier({ updateNoiseMultiplier: 1.2, countStddev: 5 }); // ≈ 1.19
 */
export function effectiveNoiseMultiplier(opts: {
  updateNoiseMultiplier: number;
  countStddev: number;
}): number {
  const zd = positive('updateNoiseMultiplier', opts.updateNoiseMultiplier);
  const sb = positive('countStddev', opts.countStddev);
  return 1 / Math.sqrt(zd ** -2 + (2 * sb) ** -2);
}

/**
 * Splits a privacy-calibrated noise multiplier z between the update and the count query: returns
 * z_Δ = (z^{−2} − (2σ_b)^{−2})^{−1/2} so that {@link effectiveNoiseMultiplier}(z_Δ, σ_b) = z
 * (Andrew et al. 2021, §3, "noise multiplier split"). Needs 2σ_b > z; a σ_b much larger than z
 * costs almost nothing (z_Δ → z).
 *
 * @example
 * const { updateNoiseMultiplier } = adaptiveClipNoiseSplit({ noiseMultiplier: 1.0, countStddev: 5 });
 * // ≈ 1.005: the update gets slightly more noise to pay for the clipped-count
 */
export function adaptiveClipNoiseSplit(opts: { noiseMultiplier: number; countStddev: number }): {
  updateNoiseMultiplier: number;
  countStddev: number;
} {
  const z = positive('noiseMultiplier', opts.noiseMultiplier);
  const sb = positive('countStddev', opts.countStddev);
  const rest = z ** -2 - (2 * sb) ** -2;
  if (!(rest > 0)) {
    throw new ProtocolError(
      'InvalidConfig',
      'countStddev too small: 2·countStddev must exceed the noise multiplier',
    );
  }
  return { updateNoiseMultiplier: 1 / Math.sqrt(rest), countStddev: sb };
}

/** Options of {@link adaptiveClipUpdate} (one object, per the project's conventions). */
export interface AdaptiveClipOptions {
  /** The clip norm C used this round. */
  clipNorm: number;
  /** Σbᵢ: how many participating clients had ‖Δᵢ‖ ≤ C. */
  unclippedCount: number;
  /** m: the expected number of participants (the normaliser of the fraction, public). */
  expectedClients: number;
  /** σ_b: std of the Gaussian noise on the count; 0 only for tests without privacy. */
  countStddev: number;
  /** γ: target quantile of update norms (paper default 0.5). */
  targetQuantile?: number;
  /** η_C: learning rate of the geometric update (paper default 0.2). */
  learningRate?: number;
}

/**
 * One step of the adaptive clip norm: b̃ = (Σbᵢ + N(0, σ_b²))/m; C' = C·exp(−η_C(b̃ − γ)). When
 * more than a γ fraction of updates fit under C the norm shrinks, otherwise it grows; the
 * multiplicative form converges quickly whatever the scale of the updates.
 *
 * @example
 * const { clipNorm } = adaptiveClipUpdate(systemRandom(), {
 *   clipNorm: 1, unclippedCount: 40, expectedClients: 50, countStddev: 2.5,
 * }); // about e^{−0.2·(0.8 − 0.5)} ≈ 0.94: most updates fit, so C shrinks
 */
export function adaptiveClipUpdate(
  rng: RandomSource,
  opts: AdaptiveClipOptions,
): { clipNorm: number; noisyFraction: number } {
  const c = positive('clipNorm', opts.clipNorm);
  const m = positive('expectedClients', opts.expectedClients);
  const count = opts.unclippedCount;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
    throw new ProtocolError('InvalidArgument', 'unclippedCount must be an integer ≥ 0');
  }
  const sb = opts.countStddev;
  if (typeof sb !== 'number' || !(sb >= 0) || !Number.isFinite(sb)) {
    throw new ProtocolError('InvalidArgument', 'countStddev must be a finite number ≥ 0');
  }
  const gamma = opts.targetQuantile ?? 0.5;
  if (!(gamma > 0 && gamma < 1)) {
    throw new ProtocolError('InvalidArgument', 'targetQuantile must be in (0, 1)');
  }
  const eta = positive('learningRate', opts.learningRate ?? 0.2);
  const noisyFraction = (count + (sb > 0 ? sampleGaussian(rng, sb) : 0)) / m;
  return { clipNorm: c * Math.exp(-eta * (noisyFraction - gamma)), noisyFraction };
}

function positive(name: string, v: unknown): number {
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) {
    throw new ProtocolError('InvalidArgument', `${name} must be a positive finite number`);
  }
  return v;
}
