import { ProtocolError } from '../errors';
import { logNormalCdf, normalCdf } from './special';

/**
 * The exact privacy profile of the Gaussian mechanism, Balle & Wang 2018, "Improving the Gaussian
 * Mechanism for Differential Privacy: Analytical Calibration and Optimal Denoising" (ICML), Thm. 8:
 * with noise std σ and L2 sensitivity Δ (here Δ = 1, σ = the noise multiplier),
 *   δ(ε) = Φ(Δ/(2σ) − εσ/Δ) − e^ε·Φ(−Δ/(2σ) − εσ/Δ).
 * T-fold composition of the unsampled Gaussian is again a Gaussian with σ/√T, so this is the
 * ground truth the PLD accountant is tested against (q = 1).
 */

function checkSigma(sigma: unknown): number {
  if (typeof sigma !== 'number' || !(sigma > 0) || !Number.isFinite(sigma)) {
    throw new ProtocolError('InvalidArgument', 'noiseMultiplier must be a positive finite number');
  }
  return sigma;
}

function checkSteps(steps: unknown): number {
  if (typeof steps !== 'number' || !Number.isInteger(steps) || steps < 1) {
    throw new ProtocolError('InvalidArgument', 'steps must be a positive integer');
  }
  return steps;
}

/**
 * δ(ε) of `steps` compositions of the Gaussian mechanism with noise multiplier σ (sensitivity 1).
 * The second term is evaluated as exp(ε + log Φ(·)) so it neither overflows nor underflows.
 *
 * @example
 * analyticGaussianDelta({ noiseMultiplier: 0.8, epsilon: 5.6796 }); // ≈ 1e-5
 */
export function analyticGaussianDelta(opts: {
  noiseMultiplier: number;
  epsilon: number;
  steps?: number;
}): number {
  const s = checkSigma(opts.noiseMultiplier) / Math.sqrt(checkSteps(opts.steps ?? 1));
  const eps = opts.epsilon;
  if (typeof eps !== 'number' || !(eps >= 0)) {
    throw new ProtocolError('InvalidArgument', 'epsilon must be a number ≥ 0');
  }
  if (eps === Infinity) return 0;
  const a = 1 / (2 * s) - eps * s;
  const b = -1 / (2 * s) - eps * s;
  return Math.max(0, normalCdf(a) - Math.exp(eps + logNormalCdf(b)));
}

/**
 * The exact ε at which `steps` compositions of the Gaussian mechanism (noise multiplier σ,
 * sensitivity 1) are (ε, δ)-DP: the root of δ(ε) = δ, found by bisection to 1e-12 relative and
 * rounded up (the returned ε always satisfies δ(ε) ≤ δ).
 *
 * @example
 * analyticGaussianEpsilon({ noiseMultiplier: 0.8, delta: 1e-5 }); // 5.67959
 */
export function analyticGaussianEpsilon(opts: {
  noiseMultiplier: number;
  delta: number;
  steps?: number;
}): number {
  const { delta } = opts;
  if (typeof delta !== 'number' || !(delta > 0 && delta < 1)) {
    throw new ProtocolError('InvalidArgument', 'delta must be in (0, 1)');
  }
  const at = (epsilon: number) =>
    analyticGaussianDelta({
      noiseMultiplier: opts.noiseMultiplier,
      epsilon,
      steps: opts.steps ?? 1,
    });
  if (at(0) <= delta) return 0;
  let lo = 0;
  let hi = 1;
  while (at(hi) > delta) {
    lo = hi;
    hi *= 2;
    if (hi > 1e6) throw new ProtocolError('NumericalFailure', 'epsilon beyond 1e6');
  }
  while (hi - lo > 1e-12 * hi) {
    const mid = (lo + hi) / 2;
    if (at(mid) > delta) lo = mid;
    else hi = mid;
  }
  return hi;
}
