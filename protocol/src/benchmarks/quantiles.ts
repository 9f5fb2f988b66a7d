import { ProtocolError } from '../errors';

/**
 * Quantiles of a KPI from its (noisy) released histogram, and how far noise can move them.
 *
 * The estimator is the generalised inverse of the piecewise-linear CDF through the histogram:
 * with the counts clamped at 0 (`c_j`), cumulative counts `C_j = c_0 + … + c_j`, the total `N` and
 * the counts above bin j `R_j = N − C_j`, the p-quantile lies in the first non-empty bin j with
 * `C_j ≥ p·N`, i.e. with `f_j = (1 − p)·C_j − p·R_j ≥ 0` (the form computed, see below), at the
 * fraction `(p·N − C_{j−1}) / c_j` of the bin, linearly in value for `'linear'` edges and linearly
 * in log-value (geometrically) for `'log'` edges. p = 0 gives the lower edge of the first
 * non-empty bin, p = 1 the upper edge of the last.
 *
 * Both functions compute `f_j` with the same floating-point operations in the same order, so the
 * interval's claims hold exactly in floating point, not only in exact arithmetic: rounding is
 * monotone, hence larger counts give larger computed prefix sums and larger computed `f_j`.
 */

type Scale = 'linear' | 'log';

/** Array.isArray without narrowing a readonly number[] to any[]. */
const isList = (x: unknown): x is readonly unknown[] => Array.isArray(x);

function checkHistogram(counts: readonly number[], edges: readonly number[], scale: Scale): void {
  if (scale !== 'linear' && scale !== 'log') {
    throw new ProtocolError('InvalidArgument', `scale must be 'linear' or 'log'`);
  }
  if (!isList(edges) || edges.length < 2) {
    throw new ProtocolError('InvalidArgument', 'edges must hold at least two values');
  }
  if (!isList(counts) || counts.length !== edges.length - 1) {
    throw new ProtocolError(
      'InvalidArgument',
      `counts must have edges.length − 1 = ${edges.length - 1} entries, got ${isList(counts) ? counts.length : typeof counts}`,
    );
  }
  for (let i = 0; i < edges.length; i++) {
    const e = edges[i]!;
    if (typeof e !== 'number' || !Number.isFinite(e)) {
      throw new ProtocolError('InvalidArgument', `edges[${i}] is not a finite number`);
    }
    if (i > 0 && !(e > edges[i - 1]!)) {
      throw new ProtocolError('InvalidArgument', `edges must be strictly increasing (at ${i})`);
    }
  }
  if (scale === 'log' && !(edges[0]! > 0)) {
    throw new ProtocolError('InvalidArgument', `log-scale edges must be positive`);
  }
  counts.forEach((c, i) => {
    if (typeof c !== 'number' || !Number.isFinite(c)) {
      throw new ProtocolError('InvalidArgument', `counts[${i}] is not a finite number`);
    }
  });
}

function checkP(p: number, name: string): void {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
    throw new ProtocolError('InvalidArgument', `${name} must be a number in [0, 1]`);
  }
}

/** Prefix sums C_j and suffix sums R_j = Σ_{i>j} (R_{last} = 0), in a fixed order. */
function cumulative(c: readonly number[]): { C: number[]; R: number[] } {
  const n = c.length;
  const C = new Array<number>(n);
  const R = new Array<number>(n);
  let s = 0;
  for (let j = 0; j < n; j++) C[j] = s += c[j]!;
  s = 0;
  for (let j = n - 1; j >= 0; j--) {
    R[j] = s;
    s += c[j]!;
  }
  return { C, R };
}

/** f_j = (1 − p)·C_j − p·R_j: ≥ 0 iff C_j ≥ p·N. Non-decreasing in j and in every count ≤ j. */
const f = (C: readonly number[], R: readonly number[], p: number, j: number) =>
  (1 - p) * C[j]! - p * R[j]!;

/** The point `frac` ∈ [0, 1] of the way through bin j, inside [e_j, e_{j+1}]. */
function interpolate(edges: readonly number[], j: number, frac: number, scale: Scale): number {
  const a = edges[j]!;
  const b = edges[j + 1]!;
  const x = scale === 'log' ? a * (b / a) ** frac : a + frac * (b - a);
  return Math.min(b, Math.max(a, x));
}

/**
 * The p-quantiles of the distribution a histogram describes, values spread within each bin
 * (linearly, or geometrically for `'log'` edges). Negative counts (noise) are clamped to 0 first,
 * which is post-processing and costs no privacy. Returns NaN for every p when no count is positive
 * (no data to take a quantile of). Without noise the estimate lies in the same bin as the
 * ⌈p·N⌉-th smallest value (the smallest for p = 0), so it is within one bin of the empirical
 * quantile.
 *
 * @example
 * quantilesFromHistogram([1, 2, 1, 0], [0, 1, 2, 3, 4], [0.25, 0.5, 0.75], 'linear'); // [1, 1.5, 2]
 * quantilesFromHistogram([0, 4, 0], [1, 10, 100, 1000], [0.5], 'log'); // [31.62…] = 10·√10
 */
export function quantilesFromHistogram(
  counts: readonly number[],
  edges: readonly number[],
  ps: readonly number[],
  scale: Scale,
): number[] {
  checkHistogram(counts, edges, scale);
  if (!isList(ps)) throw new ProtocolError('InvalidArgument', 'ps must be an array');
  ps.forEach((p, i) => checkP(p, `ps[${i}]`));
  const c = counts.map((x) => Math.max(0, x));
  const { C, R } = cumulative(c);
  const total = C[c.length - 1]!;
  return ps.map((p) => {
    if (!(total > 0)) return NaN;
    let j = 0;
    while (j < c.length - 1 && !(c[j]! > 0 && f(C, R, p, j) >= 0)) j++;
    const before = j === 0 ? 0 : C[j - 1]!;
    const frac = Math.min(1, Math.max(0, (p * total - before) / c[j]!));
    return interpolate(edges, j, frac, scale);
  });
}

/**
 * An interval that contains the p-quantile the estimator would give on the noise-free histogram
 * whenever every bin's noise is at most `perBinBound` in absolute value.
 *
 * Argument: the true counts are non-negative, so bin i's true count lies in
 * `[L_i, U_i] = [max(0, c̃_i − b), max(0, c̃_i + b)]`, independently per bin. The estimator's bin j*
 * is the first j with `n_j > 0` and `f_j ≥ 0`, and `f_j` increases with the counts up to j and
 * decreases with those above, so over the whole box `f_j` ranges exactly over
 * `[(1−p)·ΣL_{≤j} − p·ΣU_{>j}, (1−p)·ΣU_{≤j} − p·ΣL_{>j}]`. Hence j* ≥ j_lo, the first j with
 * `U_j > 0` and the upper end ≥ 0; and j* ≤ j_hi, the first j whose lower end is ≥ 0 (for p > 0,
 * where the first j with `f_j ≥ 0` is never an empty bin: were bin j empty, `f_{j−1} = f_j`) or,
 * for p = 0, the first j with `L_j > 0`. The quantile lies in its bin, so in `[e_{j_lo}, e_{j_hi + 1}]`. This is exact over
 * the box (tighter than a ±(j+1)·b envelope of C_j, and it accounts for the uncertain total N);
 * it is conservative only by the interpolation inside the two end bins. When every `L_i` is 0 the
 * noise-free histogram may be empty; the interval is then the whole range `[e_0, e_B]`.
 *
 * The clamped noisy counts lie in the box, so the interval always contains the estimate
 * {@link quantilesFromHistogram} returns (when that is not NaN), and lo ≤ hi. With
 * `perBinBound = 0` it is the bin the estimate lies in.
 *
 * @example
 * // noise ≤ 3 per bin on 20 values: the median is somewhere in bins 1…2
 * quantileInterval([2, 9, 8, 1], [0, 1, 2, 3, 4], 0.5, 3, 'linear'); // [1, 3]
 */
export function quantileInterval(
  counts: readonly number[],
  edges: readonly number[],
  p: number,
  perBinBound: number,
  scale: Scale,
): [number, number] {
  checkHistogram(counts, edges, scale);
  checkP(p, 'p');
  if (typeof perBinBound !== 'number' || !(perBinBound >= 0) || !Number.isFinite(perBinBound)) {
    throw new ProtocolError('InvalidArgument', 'perBinBound must be a finite number ≥ 0');
  }
  const b = perBinBound;
  const n = counts.length;
  const lower = counts.map((x) => Math.max(0, x - b));
  const upper = counts.map((x) => Math.max(0, x + b));
  const L = cumulative(lower);
  const U = cumulative(upper);
  if (!(L.C[n - 1]! > 0)) return [edges[0]!, edges[n]!];
  // (1−p)·ΣU_{≤j} − p·ΣL_{>j} and (1−p)·ΣL_{≤j} − p·ΣU_{>j}: same operations as f.
  const fMax = (j: number) => (1 - p) * U.C[j]! - p * L.R[j]!;
  const fMin = (j: number) => (1 - p) * L.C[j]! - p * U.R[j]!;
  let lo = 0;
  while (lo < n - 1 && !(upper[lo]! > 0 && fMax(lo) >= 0)) lo++;
  // For p > 0 the first j with f_j ≥ 0 is a non-empty bin, provided p·R_0 > 0 when n_0 = 0 (true
  // unless p is so small that the product underflows); otherwise bound j* by the first bin that is
  // surely non-empty, as for p = 0.
  const tight = p > 0 && (lower[0]! > 0 || p * L.R[0]! > 0);
  let hi = 0;
  if (tight) while (hi < n - 1 && !(fMin(hi) >= 0)) hi++;
  else while (hi < n - 1 && !(lower[hi]! > 0)) hi++;
  return [edges[lo]!, edges[Math.max(lo, hi) + 1]!];
}
