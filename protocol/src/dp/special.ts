/**
 * Special functions for privacy accounting, written out so that every digit the accountants rely
 * on is ours to test (vectors from mpmath in `vectors/special.json`).
 *
 * - erfc: for x < 1.5 a positive-term series of erf (no cancellation; Abramowitz & Stegun 7.1.6),
 *   for x ≥ 1.5 the even contraction of Laplace's continued fraction for e^{x²}·erfc(x)
 *   (A&S 7.1.14), evaluated with the modified Lentz method. Relative error ≲ 1e-14 everywhere.
 * - lgamma: Stirling's series with six Bernoulli terms for x ≥ 10, shifted by the recurrence below.
 */

const SQRT_PI = Math.sqrt(Math.PI);
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** e^{x²}·erfc(x) for x ≥ 1.5 by the continued fraction 2x/(2x²+1− 1·2/(2x²+5− 3·4/(2x²+9−…))). */
function erfcxCf(x: number): number {
  const tiny = 1e-300;
  const z = 2 * x * x;
  let f = z + 1;
  let c = f;
  let d = 0;
  for (let n = 1; n < 200; n++) {
    const a = -(2 * n - 1) * (2 * n);
    const b = z + 4 * n + 1;
    d = b + a * d;
    if (d === 0) d = tiny;
    c = b + a / c;
    if (c === 0) c = tiny;
    d = 1 / d;
    const step = c * d;
    f *= step;
    if (Math.abs(step - 1) < 1e-16) break;
  }
  return (2 * x) / (f * SQRT_PI);
}

/** erf(x) for 0 ≤ x < 1.5: (2/√π)·e^{−x²}·Σ 2ⁿx^{2n+1}/(2n+1)!! (all terms positive). */
function erfSeries(x: number): number {
  const x2 = 2 * x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= x2 / (2 * n + 1);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return (2 / SQRT_PI) * Math.exp(-x * x) * sum;
}

/**
 * The complementary error function erfc(x) = 1 − erf(x), accurate in relative terms far into the
 * upper tail (where 1 − erf would cancel to zero).
 *
 * @example
 * erfc(5); // 1.5374597944280349e-12 — the normal tail Φc(z) is erfc(z/√2)/2
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x < 1.5) return 1 - erfSeries(x);
  if (x > 27.3) return 0; // below the smallest subnormal
  return erfcxCf(x) * Math.exp(-x * x);
}

/**
 * log erfc(x), finite for every finite x (no underflow for large x). The RDP series of the sampled
 * Gaussian needs it at arguments where erfc itself is 0 in double precision.
 *
 * @example
 * logErfc(40); // ≈ −1604.26, although erfc(40) underflows to 0
 */
export function logErfc(x: number): number {
  if (x < 1.5) return Math.log(erfc(x));
  return Math.log(erfcxCf(x)) - x * x;
}

/**
 * Standard normal CDF Φ(z), accurate in the lower tail.
 *
 * @example
 * normalCdf(-8); // 6.22e-16, where 1 − normalSf(-8) would give 0
 */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/**
 * Standard normal survival function Φc(z) = 1 − Φ(z), accurate in the upper tail.
 *
 * @example
 * normalSf(8); // 6.22e-16
 */
export function normalSf(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/**
 * log Φ(z) for any z, via log erfc, so that tail probabilities can be multiplied by e^ε without
 * overflow in the analytic Gaussian mechanism.
 *
 * @example
 * logNormalCdf(-40); // ≈ −804.6
 */
export function logNormalCdf(z: number): number {
  return logErfc(-z / Math.SQRT2) - Math.LN2;
}

/**
 * log Γ(x) for x > 0. Stirling's series (Bernoulli terms up to B₁₂) for x ≥ 10, where its error is
 * below 1e-16, and Γ(x) = Γ(x+n)/(x(x+1)…(x+n−1)) below. Used by the Poisson sampler, the
 * binomial coefficients of the RDP accountant and the chi-square test.
 *
 * @example
 * lgamma(5); // log(24) = 3.1780538303479458
 */
export function lgamma(x: number): number {
  if (!(x > 0)) return x === 0 ? Infinity : NaN;
  if (x === 1 || x === 2) return 0;
  let shift = 0;
  let prod = 1;
  while (x < 10) {
    prod *= x;
    x += 1;
    if (prod > 1e280) {
      shift += Math.log(prod);
      prod = 1;
    }
  }
  shift += Math.log(prod);
  const r = 1 / x;
  const r2 = r * r;
  const series =
    r *
    (1 / 12 +
      r2 *
        (-1 / 360 + r2 * (1 / 1260 + r2 * (-1 / 1680 + r2 * (1 / 1188 + r2 * (-691 / 360360))))));
  return (x - 0.5) * Math.log(x) - x + HALF_LOG_2PI + series - shift;
}

/**
 * log(e^a + e^b) without overflow; −Infinity is the identity.
 *
 * @example
 * logAddExp(1000, 1000); // 1000 + log 2
 */
export function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log1p(Math.exp(-Math.abs(a - b)));
}

/**
 * log(e^a − e^b) for a ≥ b; returns NaN when a < b (the caller decides what a negative difference
 * means).
 *
 * @example
 * logSubExp(Math.log(3), Math.log(1)); // log 2
 */
export function logSubExp(a: number, b: number): number {
  if (b === -Infinity) return a;
  if (a < b) return NaN;
  if (a === b) return -Infinity;
  return a + Math.log(-Math.expm1(b - a));
}
