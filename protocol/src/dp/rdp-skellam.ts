import { ProtocolError } from '../errors';
import { lgamma, logAddExp } from './special';

/**
 * Rényi DP of the (distributed) Skellam mechanism, Agarwal, Kairouz & Liu 2021, "The Skellam
 * Mechanism for Differentially Private Federated Learning" (NeurIPS), Theorem 3.5 / Corollary 3.6:
 * adding Skellam noise of variance V to an integer vector query with L2 sensitivity Δ₂ and L1
 * sensitivity Δ₁ is (α, ε(α))-RDP for integer α > 1 with
 *   ε(α) ≤ α·Δ₂²/(2V) + min( ((2α − 1)·Δ₂² + 6·Δ₁)/(4V²), 3·Δ₁/(2V) ).
 * The first term is the Gaussian's; the min is the price of integer noise. With our Sk(μ) =
 * Poisson(μ) − Poisson(μ), V = 2μ, where μ is the TOTAL Poisson mean carried by the sum (e.g. the
 * threshold t times the per-client μ: the guarantee must hold with only t survivors).
 * For integers Δ₁ ≤ min(Δ₂², √d·Δ₂) (their Lemma on rounded vectors).
 *
 * Poisson subsampling (rate q < 1) uses the general upper bound of Zhu & Wang 2019, "Poisson
 * Subsampled Rényi Differential Privacy" (ICML), Theorem 6, valid for integer α ≥ 2:
 *   ε'(α) ≤ 1/(α−1)·log( (1−q)^{α−1}(αq − q + 1) + C(α,2)q²(1−q)^{α−2}e^{ε(2)}
 *                        + 3·Σ_{l=3}^{α} C(α,l)(1−q)^{α−l}q^l e^{(l−1)ε(l)} ),
 * and the smaller of ε'(α) and ε(α) is used. Fractional orders are not covered by these theorems
 * and return +Infinity (the conversion to (ε, δ) then just skips them).
 */

/** Parameters of one Skellam release (all in quantized integer units). */
export interface SkellamParams {
  /** Total Poisson mean μ of the noise in the released sum (variance 2μ). */
  mu: number;
  /** L2 sensitivity Δ₂ of the quantized sum (≈ scale × clip norm, plus rounding). */
  l2Sensitivity: number;
  /** L1 sensitivity Δ₁ (≤ min(Δ₂², √d·Δ₂) for integer vectors). */
  l1Sensitivity: number;
}

function skellamBase(p: SkellamParams, alpha: number): number {
  const v = 2 * p.mu;
  const d2sq = p.l2Sensitivity * p.l2Sensitivity;
  const d1 = p.l1Sensitivity;
  return (
    (alpha * d2sq) / (2 * v) +
    Math.min(((2 * alpha - 1) * d2sq + 6 * d1) / (4 * v * v), (3 * d1) / (2 * v))
  );
}

function logBinom(n: number, k: number): number {
  return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1);
}

/** Zhu & Wang 2019, Thm. 6, in log space. */
function subsampledUpper(eps: (l: number) => number, alpha: number, q: number): number {
  const lq = Math.log(q);
  const l1q = Math.log1p(-q);
  let acc = (alpha - 1) * l1q + Math.log(alpha * q - q + 1);
  acc = logAddExp(acc, logBinom(alpha, 2) + 2 * lq + (alpha - 2) * l1q + eps(2));
  for (let l = 3; l <= alpha; l++) {
    const term = Math.log(3) + logBinom(alpha, l) + (alpha - l) * l1q + l * lq + (l - 1) * eps(l);
    acc = logAddExp(acc, term);
  }
  return acc / (alpha - 1);
}

/**
 * RDP ε(α) of ONE Skellam release with Poisson sampling rate q (q = 1: every member takes part).
 *
 * @example
 * // Δ₂ = 1000 (clip norm 1 at scale 1000), Δ₁ ≤ Δ₂·√d, noise std 1000·1.0:
 * rdpSkellam({ mu: 5e5, l2Sensitivity: 1000, l1Sensitivity: 1e6, samplingRate: 1, order: 2 });
 * // 1.00000225 (the Gaussian's α/(2z²) = 1, plus the discreteness term)
 */
export function rdpSkellam(opts: SkellamParams & { samplingRate: number; order: number }): number {
  const { mu, l2Sensitivity, l1Sensitivity, samplingRate: q, order: alpha } = opts;
  for (const [name, v] of [
    ['mu', mu],
    ['l2Sensitivity', l2Sensitivity],
    ['l1Sensitivity', l1Sensitivity],
  ] as const) {
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) {
      throw new ProtocolError('InvalidArgument', `${name} must be a positive finite number`);
    }
  }
  if (typeof q !== 'number' || !(q >= 0 && q <= 1)) {
    throw new ProtocolError('InvalidArgument', 'samplingRate must be in [0, 1]');
  }
  if (typeof alpha !== 'number' || !(alpha > 1)) {
    throw new ProtocolError('InvalidArgument', 'order must be > 1');
  }
  if (q === 0) return 0;
  if (!Number.isInteger(alpha)) return Infinity;
  const params = { mu, l2Sensitivity, l1Sensitivity };
  const full = skellamBase(params, alpha);
  if (q === 1) return full;
  return Math.min(
    full,
    subsampledUpper((l) => skellamBase(params, l), alpha, q),
  );
}
