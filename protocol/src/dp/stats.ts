import { ProtocolError } from '../errors';
import { lgamma } from './special';

/**
 * Statistical helpers for testing the samplers: the regularized incomplete gamma function and the
 * chi-square distribution built on it, plus a goodness-of-fit test against an exact pmf. Series and
 * continued fraction follow Numerical Recipes (3rd ed., §6.2, `gser`/`gcf`); both converge in
 * O(√a) steps, so df up to ~10⁶ is fine.
 */

const MAX_ITER = 100_000;
const EPS = 1e-16;

function prefactor(a: number, x: number): number {
  return Math.exp(-x + a * Math.log(x) - lgamma(a));
}

/** P(a, x) by its power series; valid (fast) for x < a + 1. */
function gammaPSeries(a: number, x: number): number {
  let ap = a;
  let del = 1 / a;
  let sum = del;
  for (let i = 0; i < MAX_ITER; i++) {
    ap += 1;
    del *= x / ap;
    sum += del;
    if (Math.abs(del) < Math.abs(sum) * EPS) return sum * prefactor(a, x);
  }
  throw new ProtocolError('NumericalFailure', 'incomplete gamma series did not converge');
}

/** Q(a, x) by Legendre's continued fraction (modified Lentz); valid (fast) for x ≥ a + 1. */
function gammaQFraction(a: number, x: number): number {
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITER; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) return h * prefactor(a, x);
  }
  throw new ProtocolError('NumericalFailure', 'incomplete gamma fraction did not converge');
}

function checkGammaArgs(a: number, x: number): void {
  if (!(a > 0) || !(x >= 0) || !Number.isFinite(a)) {
    throw new ProtocolError('InvalidArgument', `incomplete gamma needs a > 0 and x ≥ 0`);
  }
}

/**
 * Regularized lower incomplete gamma P(a, x) = γ(a, x)/Γ(a).
 *
 * @example
 * gammaP(1, 2); // 1 − e^{−2}
 */
export function gammaP(a: number, x: number): number {
  checkGammaArgs(a, x);
  if (x === 0) return 0;
  if (x === Infinity) return 1;
  return x < a + 1 ? gammaPSeries(a, x) : 1 - gammaQFraction(a, x);
}

/**
 * Regularized upper incomplete gamma Q(a, x) = 1 − P(a, x), accurate in the upper tail.
 *
 * @example
 * gammaQ(1, 40); // e^{−40}, not 0
 */
export function gammaQ(a: number, x: number): number {
  checkGammaArgs(a, x);
  if (x === 0) return 1;
  if (x === Infinity) return 0;
  return x < a + 1 ? 1 - gammaPSeries(a, x) : gammaQFraction(a, x);
}

/**
 * P(χ²_df ≥ x): the p-value of a chi-square statistic.
 *
 * @example
 * chiSquareSurvival(3.841458820694124, 1); // 0.05
 */
export function chiSquareSurvival(x: number, df: number): number {
  return gammaQ(df / 2, Math.max(0, x) / 2);
}

/**
 * P(χ²_df ≤ x), accurate in the lower tail (used for two-sided variance tests).
 *
 * @example
 * chiSquareCdf(0.00393214, 1); // ≈ 0.05
 */
export function chiSquareCdf(x: number, df: number): number {
  return gammaP(df / 2, Math.max(0, x) / 2);
}

/** Result of {@link chiSquareGoodnessOfFit}. */
export interface ChiSquareResult {
  statistic: number;
  df: number;
  pValue: number;
  bins: number;
}

/**
 * Pearson's chi-square goodness-of-fit test of integer samples against an exact pmf. Adjacent values
 * are merged until every bin expects at least `minExpected` draws. `range` must hold all but a
 * negligible mass (say < 1e-9) of the pmf: draws outside it are folded into the end bins and the
 * missing mass into the last bin. Under the null the p-value is
 * asymptotically uniform, so rejecting at p < 10⁻⁶ has a false-rejection rate of about 10⁻⁶.
 *
 * @example
 * const counts = new Map([[0, 480], [1, 520]]);
 * chiSquareGoodnessOfFit(counts, (k) => (k === 0 || k === 1 ? 0.5 : 0), { lo: 0, hi: 1 });
 */
export function chiSquareGoodnessOfFit(
  counts: ReadonlyMap<number, number>,
  pmf: (k: number) => number,
  range: { lo: number; hi: number },
  minExpected = 5,
): ChiSquareResult {
  let n = 0;
  for (const c of counts.values()) n += c;
  if (n === 0) throw new ProtocolError('InvalidArgument', 'counts must not be empty');
  const obs: number[] = [];
  const exp: number[] = [];
  let o = 0;
  let e = 0;
  let inRange = 0;
  for (const [k, c] of counts) if (k < range.lo) o += c;
  for (let k = range.lo; k <= range.hi; k++) {
    const p = pmf(k);
    inRange += p;
    o += counts.get(k) ?? 0;
    e += n * p;
    if (e >= minExpected) {
      obs.push(o);
      exp.push(e);
      o = 0;
      e = 0;
    }
  }
  let above = 0;
  for (const [k, c] of counts) if (k > range.hi) above += c;
  // Leftover mass (the pmf outside [lo, hi] and the last partial bin) joins the last bin.
  const outside = Math.max(0, 1 - inRange);
  o += above;
  e += n * outside;
  if (obs.length === 0) throw new ProtocolError('InvalidArgument', 'too few draws for the test');
  obs[obs.length - 1]! += o;
  exp[exp.length - 1]! += e;
  let statistic = 0;
  for (let i = 0; i < obs.length; i++) {
    const d = obs[i]! - exp[i]!;
    statistic += (d * d) / exp[i]!;
  }
  const df = obs.length - 1;
  return { statistic, df, pValue: df > 0 ? chiSquareSurvival(statistic, df) : 1, bins: obs.length };
}
