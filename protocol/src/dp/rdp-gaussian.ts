import { ProtocolError } from '../errors';
import { lgamma, logAddExp, logErfc, logSubExp } from './special';

/**
 * Rényi DP of the Poisson-subsampled Gaussian mechanism (the "Sampled Gaussian Mechanism"),
 * Mironov, Talwar & Zhang 2019, "Rényi Differential Privacy of the Sampled Gaussian Mechanism"
 * (arXiv:1908.10530), for add/remove neighbours and L2 sensitivity 1:
 *   ε(α) = log A_α / (α − 1),  A_α = E_{z∼μ₀}[(μ(z)/μ₀(z))^α],  μ = (1−q)μ₀ + qμ₁,
 * with μ₀ = N(0, σ²), μ₁ = N(1, σ²). Integer α: the binomial expansion (their §3),
 *   A_α = Σ_{i=0}^{α} C(α,i)(1−q)^{α−i}q^i·exp((i² − i)/(2σ²)).
 * Fractional α: the two convergent series of their §3 split at z₀ = σ²·log(1/q − 1) + ½, summed
 * term by term in log space the way TF Privacy's `_compute_log_a_frac` does (all terms' signs
 * tracked; stop when both new terms are below e^{−30} of unity). Google's dp_accounting 0.6.0
 * overestimates at fractional orders and is deliberately not followed.
 */

/** log A_α for integer α ≥ 2 (binomial expansion, every term positive). */
function logAInt(q: number, sigma: number, alpha: number): number {
  const lq = Math.log(q);
  const l1q = Math.log1p(-q);
  const la1 = lgamma(alpha + 1);
  let logA = -Infinity;
  for (let i = 0; i <= alpha; i++) {
    const logCoef = la1 - lgamma(i + 1) - lgamma(alpha - i + 1) + i * lq + (alpha - i) * l1q;
    logA = logAddExp(logA, logCoef + (i * i - i) / (2 * sigma * sigma));
  }
  return logA;
}

/** log A_α for fractional α > 1 (Mironov et al. 2019, §3, as in TF Privacy). */
function logAFrac(q: number, sigma: number, alpha: number): number {
  let logA0 = -Infinity;
  let logA1 = -Infinity;
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  const lq = Math.log(q);
  const l1q = Math.log1p(-q);
  const s2 = sigma * sigma;
  const rt2s = Math.SQRT2 * sigma;
  let logAbsCoef = 0; // log |C(α, i)|
  let sign = 1;
  for (let i = 0; i < 100_000; i++) {
    const j = alpha - i;
    const logT0 = logAbsCoef + i * lq + j * l1q;
    const logT1 = logAbsCoef + j * lq + i * l1q;
    const logE0 = Math.log(0.5) + logErfc((i - z0) / rt2s);
    const logE1 = Math.log(0.5) + logErfc((z0 - j) / rt2s);
    const logS0 = logT0 + (i * i - i) / (2 * s2) + logE0;
    const logS1 = logT1 + (j * j - j) / (2 * s2) + logE1;
    if (sign > 0) {
      logA0 = logAddExp(logA0, logS0);
      logA1 = logAddExp(logA1, logS1);
    } else {
      logA0 = logSubExp(logA0, logS0);
      logA1 = logSubExp(logA1, logS1);
      if (Number.isNaN(logA0) || Number.isNaN(logA1)) {
        throw new ProtocolError(
          'NumericalFailure',
          'RDP series for a fractional order went negative',
        );
      }
    }
    if (Math.max(logS0, logS1) < -30) return logAddExp(logA0, logA1);
    // C(α, i+1) = C(α, i)·(α − i)/(i + 1); α − i changes sign once i passes α.
    logAbsCoef += Math.log(Math.abs(alpha - i)) - Math.log(i + 1);
    if (alpha - i < 0) sign = -sign;
  }
  throw new ProtocolError('NumericalFailure', 'RDP series for a fractional order did not converge');
}

/**
 * RDP ε(α) of ONE step of the Poisson-subsampled Gaussian with sampling rate q and noise
 * multiplier σ (noise std / L2 sensitivity). q = 1 gives the plain Gaussian α/(2σ²); q = 0 gives 0.
 *
 * @example
 * rdpSampledGaussian({ samplingRate: 0.01, noiseMultiplier: 1.0, order: 8 }); // ≈ 0.000894
 */
export function rdpSampledGaussian(opts: {
  samplingRate: number;
  noiseMultiplier: number;
  order: number;
}): number {
  const { samplingRate: q, noiseMultiplier: sigma, order: alpha } = opts;
  if (typeof q !== 'number' || !(q >= 0 && q <= 1)) {
    throw new ProtocolError('InvalidArgument', 'samplingRate must be in [0, 1]');
  }
  if (typeof sigma !== 'number' || !(sigma >= 0) || !Number.isFinite(sigma)) {
    throw new ProtocolError('InvalidArgument', 'noiseMultiplier must be a finite number ≥ 0');
  }
  if (typeof alpha !== 'number' || !(alpha > 1)) {
    throw new ProtocolError('InvalidArgument', 'order must be > 1');
  }
  if (q === 0) return 0;
  if (sigma === 0 || alpha === Infinity) return Infinity;
  if (q === 1) return alpha / (2 * sigma * sigma);
  const logA = Number.isInteger(alpha) ? logAInt(q, sigma, alpha) : logAFrac(q, sigma, alpha);
  return logA / (alpha - 1);
}
