import { ProtocolError } from '../errors';
import { lgamma } from './special';
import type { UniformStream } from './uniform';

/**
 * Poisson(μ) sampling for the Skellam mechanism: sequential-search inversion for μ < 10 and PTRS,
 * Hörmann 1993, "The transformed rejection method for generating Poisson random variables",
 * Insurance: Mathematics and Economics 12(1), for μ ≥ 10. PTRS's final acceptance test compares
 * against log P(k), which we evaluate with Loader's saddle-point form (Loader 2000, "Fast and
 * accurate computation of binomial probabilities") so that it stays accurate for μ up to 2^40
 * where −μ + k·log μ − log k! would cancel catastrophically.
 */

/**
 * Largest μ accepted: Skellam noise with this μ has std 2^20.5, so it stays ~1448 standard
 * deviations inside a signed 32-bit word.
 *
 * @example
 * if (mu > MAX_POISSON_MEAN) rescale();
 */
export const MAX_POISSON_MEAN = 2 ** 40;

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** log(n!) − log(√(2πn)·(n/e)^n), the error of Stirling's formula (n ≥ 1). */
function stirlerr(n: number): number {
  if (n <= 15) return lgamma(n + 1) - (n + 0.5) * Math.log(n) + n - HALF_LOG_2PI;
  const s0 = 1 / 12;
  const s1 = 1 / 360;
  const s2 = 1 / 1260;
  const s3 = 1 / 1680;
  const s4 = 1 / 1188;
  const nn = n * n;
  if (n > 500) return (s0 - s1 / nn) / n;
  if (n > 80) return (s0 - (s1 - s2 / nn) / nn) / n;
  if (n > 35) return (s0 - (s1 - (s2 - s3 / nn) / nn) / nn) / n;
  return (s0 - (s1 - (s2 - (s3 - s4 / nn) / nn) / nn) / nn) / n;
}

/** x·log(x/m) + m − x, computed without cancellation when x ≈ m. */
function bd0(x: number, m: number): number {
  if (Math.abs(x - m) < 0.1 * (x + m)) {
    let v = (x - m) / (x + m);
    let s = (x - m) * v;
    let ej = 2 * x * v;
    v *= v;
    for (let j = 1; j < 1000; j++) {
      ej *= v;
      const s1 = s + ej / (2 * j + 1);
      if (s1 === s) return s1;
      s = s1;
    }
    return s;
  }
  return x * Math.log(x / m) + m - x;
}

/**
 * log P(K = k) for K ~ Poisson(μ), accurate to ~1e-13 absolute even for μ ~ 10¹².
 *
 * @example
 * poissonLogPmf(3, 2); // log(e^{-2}·2³/3!)
 */
export function poissonLogPmf(k: number, mu: number): number {
  if (k < 0 || !Number.isInteger(k)) return -Infinity;
  if (k === 0) return -mu;
  return -stirlerr(k) - bd0(k, mu) - 0.5 * Math.log(2 * Math.PI * k);
}

/** Sequential-search inversion (Devroye 1986, §X.3.3); exact up to double rounding of the CDF. */
function poissonInversion(u: UniformStream, mu: number): number {
  const x = u.unit();
  let p = Math.exp(-mu);
  let cdf = p;
  let k = 0;
  while (x >= cdf && k < 400) {
    k++;
    p *= mu / k;
    cdf += p;
  }
  return k;
}

/** PTRS constants for one μ, computed once per vector. */
export interface PtrsConstants {
  mu: number;
  b: number;
  a: number;
  logInvAlpha: number;
  vr: number;
}

/**
 * Precomputes PTRS's constants (Hörmann 1993, Algorithm PTRS) for a mean μ ≥ 10.
 *
 * @example
 * const c = ptrsConstants(50);
 */
export function ptrsConstants(mu: number): PtrsConstants {
  const smu = Math.sqrt(mu);
  const b = 0.931 + 2.53 * smu;
  const a = -0.059 + 0.02483 * b;
  const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  return { mu, b, a, logInvAlpha: Math.log(invAlpha), vr };
}

/** PTRS: transformed rejection with squeeze (Hörmann 1993, Algorithm PTRS). */
function poissonPtrs(u: UniformStream, c: PtrsConstants): number {
  for (;;) {
    const uu = u.unit() - 0.5;
    const v = u.unit();
    const us = 0.5 - Math.abs(uu);
    const k = Math.floor(((2 * c.a) / us + c.b) * uu + c.mu + 0.43);
    if (us >= 0.07 && v <= c.vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    const lhs = Math.log(v) + c.logInvAlpha - Math.log(c.a / (us * us) + c.b);
    if (lhs <= poissonLogPmf(k, c.mu)) return k;
  }
}

/**
 * Draws one Poisson(μ) variate from a uniform stream; `constants` must come from
 * {@link ptrsConstants}(μ) when μ ≥ 10 (pass it to amortise the square root and logs over a vector).
 *
 * @example
 * const k = poissonDraw(new UniformStream(rng), 3.5);
 */
export function poissonDraw(u: UniformStream, mu: number, constants?: PtrsConstants): number {
  if (mu === 0) return 0;
  if (mu < 10) return poissonInversion(u, mu);
  return poissonPtrs(u, constants ?? ptrsConstants(mu));
}

/**
 * Throws InvalidArgument (naming the parameter) unless 0 ≤ μ ≤ 2^40.
 *
 * @example
 * const mu = checkPoissonMean('perClientMu', opts.perClientMu);
 */
export function checkPoissonMean(name: string, mu: unknown): number {
  if (typeof mu !== 'number' || !(mu >= 0) || mu > MAX_POISSON_MEAN) {
    throw new ProtocolError('InvalidArgument', `${name} must be a number in [0, 2^40]`);
  }
  return mu;
}
