import type { RandomSource } from '../crypto/random';
import { ProtocolError } from '../errors';
import { UniformStream } from './uniform';

/**
 * Exact sampling from the discrete Gaussian N_Z(0, σ²), P(X = x) ∝ exp(−x²/(2σ²)) on the integers,
 * after Canonne, Kamath & Steinke 2020, "The Discrete Gaussian for Differential Privacy" (NeurIPS),
 * §5: Algorithm 1 (Bernoulli(exp(−γ)) from Bernoulli(γ/k) draws), Algorithm 2 (discrete Laplace)
 * and Algorithm 3 (discrete Gaussian by rejection from the discrete Laplace with t = ⌊σ⌋ + 1).
 * Every step uses integer or rational arithmetic only — no floating-point rounding touches the
 * output distribution.
 *
 * σ² is handled as an exact rational. A `number` is taken as the exact binary value it holds
 * (a double is m·2^e, a dyadic rational), so no approximation is made beyond the caller's own
 * decimal-to-binary rounding (σ² = 0.1 is really 0.1000000000000000055…); pass
 * `{ numerator, denominator }` to use a decimal value exactly. Integer and half-integer σ² stay on a
 * fast double-precision path; other values use bigint arithmetic (a few µs per draw).
 */

/** σ² as an exact fraction numerator/denominator (both positive). */
export interface RationalVariance {
  numerator: bigint;
  denominator: bigint;
}

const TWO_53 = 9007199254740992;
const SQRT_TWO_53 = 94906265; // ⌊√2^53⌋: squares below this are exact doubles
const MAX_SIGMA2 = 2 ** 40;

interface Params {
  sn: bigint;
  sd: bigint;
  t: number;
  tsd: bigint;
  den: bigint;
  fast: { tsd: number; sn: number; den: number } | null;
}

function bigGcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = BigInt(Math.floor(Math.sqrt(Number(n))));
  while (x * x > n) x -= 1n;
  while ((x + 1n) * (x + 1n) <= n) x += 1n;
  return x;
}

function toRational(sigma2: number | RationalVariance): { sn: bigint; sd: bigint } {
  let sn: bigint;
  let sd: bigint;
  if (typeof sigma2 === 'number') {
    if (!(sigma2 > 0) || sigma2 > MAX_SIGMA2) {
      throw new ProtocolError('InvalidArgument', `sigma2 must be in (0, 2^40]`);
    }
    let y = sigma2;
    let k = 0;
    while (!Number.isInteger(y)) {
      y *= 2; // exact in binary floating point
      k++;
    }
    sn = BigInt(y);
    sd = 1n << BigInt(k);
  } else {
    ({ numerator: sn, denominator: sd } = sigma2);
    if (typeof sn !== 'bigint' || typeof sd !== 'bigint' || sn <= 0n || sd <= 0n) {
      throw new ProtocolError(
        'InvalidArgument',
        'sigma2 numerator and denominator must be bigint > 0',
      );
    }
    if (sn > BigInt(MAX_SIGMA2) * sd) {
      throw new ProtocolError('InvalidArgument', `sigma2 must be in (0, 2^40]`);
    }
  }
  const g = bigGcd(sn, sd);
  return { sn: sn / g, sd: sd / g };
}

function prepare(sigma2: number | RationalVariance): Params {
  const { sn, sd } = toRational(sigma2);
  // t = ⌊σ⌋ + 1 with ⌊σ⌋ = ⌊√⌊σ²⌋⌋ (exact integer square root).
  const t = Number(isqrt(sn / sd)) + 1;
  const tsd = BigInt(t) * sd;
  // γ(Y) = (|Y| − σ²/t)² / (2σ²) = (|Y|·t·sd − sn)² / (2·t²·sd·sn).
  const den = 2n * BigInt(t) * tsd * sn;
  const fast =
    den < BigInt(TWO_53) && tsd < BigInt(TWO_53)
      ? { tsd: Number(tsd), sn: Number(sn), den: Number(den) }
      : null;
  return { sn, sd, t, tsd, den, fast };
}

/** Bernoulli(exp(−n/d)) for 0 ≤ n ≤ d (CKS 2020, Algorithm 1, γ ∈ [0, 1]), double-precision integers. */
function bernExp01(u: UniformStream, n: number, d: number): boolean {
  let k = 1;
  for (;;) {
    // A ~ Bernoulli(γ/k) = Bernoulli(n/(d·k)); the product is exact while it is below 2^53.
    const m = d * k;
    const a = m < TWO_53 ? u.below(m) < n : u.bigBelow(BigInt(d) * BigInt(k)) < BigInt(n);
    if (!a) return k % 2 === 1;
    k++;
  }
}

/** Bernoulli(exp(−n/d)) for any n/d ≥ 0 (CKS 2020, Algorithm 1, γ > 1 case), numbers. */
function bernExp(u: UniformStream, n: number, d: number): boolean {
  while (n > d) {
    if (!bernExp01(u, 1, 1)) return false;
    n -= d;
  }
  return bernExp01(u, n, d);
}

/** Same as {@link bernExp01} with bigint numerator and denominator. */
function bernExp01Big(u: UniformStream, n: bigint, d: bigint): boolean {
  let k = 1n;
  for (;;) {
    if (!(u.bigBelow(d * k) < n)) return k % 2n === 1n;
    k++;
  }
}

function bernExpBig(u: UniformStream, n: bigint, d: bigint): boolean {
  const whole = n / d;
  for (let i = 0n; i < whole; i++) if (!bernExp01(u, 1, 1)) return false;
  return bernExp01Big(u, n - whole * d, d);
}

/** Discrete Laplace with scale t (CKS 2020, Algorithm 2 with s = 1): P(x) ∝ exp(−|x|/t). */
function discreteLaplace(u: UniformStream, t: number): number {
  for (;;) {
    const uu = u.below(t);
    if (!bernExp01(u, uu, t)) continue;
    let v = 0;
    while (bernExp01(u, 1, 1)) v++;
    const x = uu + t * v;
    const b = u.bit();
    if (b === 1 && x === 0) continue;
    return b === 1 ? -x : x;
  }
}

/** Discrete Gaussian by rejection (CKS 2020, Algorithm 3). */
function discreteGaussian(u: UniformStream, p: Params): number {
  for (;;) {
    const y = discreteLaplace(u, p.t);
    const ay = Math.abs(y);
    let accept: boolean;
    const f = p.fast;
    const prod = f ? ay * f.tsd : Infinity;
    const diff = f && prod < TWO_53 ? prod - f.sn : Infinity;
    if (f && Math.abs(diff) < SQRT_TWO_53) {
      accept = bernExp(u, diff * diff, f.den);
    } else {
      const bd = BigInt(ay) * p.tsd - p.sn;
      accept = bernExpBig(u, bd * bd, p.den);
    }
    if (accept) return y;
  }
}

/**
 * One exact draw from the discrete Gaussian N_Z(0, σ²). Discrete Gaussian noise keeps distributed
 * DP in integers (it survives the mod-2^32 arithmetic of secure aggregation) with the privacy of
 * the continuous Gaussian (CKS 2020, §2–3); unlike Skellam it is not closed under summation,
 * so a sum of client shares is only approximately discrete-Gaussian.
 *
 * @example
 * sampleDiscreteGaussian(systemRandom(), 4); // an integer, variance slightly below 4
 */
export function sampleDiscreteGaussian(
  rng: RandomSource,
  sigma2: number | RationalVariance,
): number {
  return discreteGaussian(new UniformStream(rng, 16), prepare(sigma2));
}

/**
 * `length` exact discrete Gaussian draws as an Int32Array (σ² ≤ 2^40, so |x| < 2^31 except with
 * probability below e^{−2^21}).
 *
 * @example
 * const noise = discreteGaussianVector(systemRandom(), { length: 100_000, sigma2: 1e6 });
 */
export function discreteGaussianVector(
  rng: RandomSource,
  opts: { length: number; sigma2: number | RationalVariance },
): Int32Array {
  if (!Number.isInteger(opts.length) || opts.length < 0 || opts.length > 2 ** 31) {
    throw new ProtocolError('InvalidArgument', 'length must be an integer in [0, 2^31]');
  }
  const p = prepare(opts.sigma2);
  const u = new UniformStream(rng, 4096);
  const out = new Int32Array(opts.length);
  for (let i = 0; i < out.length; i++) out[i] = discreteGaussian(u, p);
  return out;
}
