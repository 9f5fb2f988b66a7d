import { normalSf } from '../dp/special';
import { ProtocolError } from '../errors';
import type { KpiId } from './kpis';
import { binEdges, kpi } from './kpis';
import { quantileInterval, quantilesFromHistogram } from './quantiles';
import type { KpiAggregate } from './vector';

/**
 * The half-width b such that N(0, σ²) noise on each of `entries` independent entries stays within
 * ±b on all of them with probability at least `confidence` (union bound: each entry may exceed b
 * with probability (1 − confidence) / entries). 0 when σ = 0.
 *
 * @example
 * noiseBound(1, 0.95, 1); // 1.959963984540054 (the two-sided 95% normal quantile)
 * noiseBound(2, 0.95, 12); // 2 · Φ⁻¹(1 − 0.05 / 24) ≈ 5.73
 */
export function noiseBound(sigma: number, confidence: number, entries: number): number {
  if (!(sigma >= 0) || !Number.isFinite(sigma)) {
    throw new ProtocolError('InvalidArgument', 'sigma must be a finite number ≥ 0');
  }
  if (!(confidence > 0 && confidence < 1)) {
    throw new ProtocolError('InvalidArgument', 'confidence must lie strictly between 0 and 1');
  }
  if (!Number.isInteger(entries) || entries < 1) {
    throw new ProtocolError('InvalidArgument', 'entries must be a positive integer');
  }
  if (sigma === 0) return 0;
  const tail = (1 - confidence) / (2 * entries);
  // Φc is decreasing: bisect Φc(z) = tail on [0, 40] to full double precision.
  let lo = 0;
  let hi = 40;
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (normalSf(mid) > tail) lo = mid;
    else hi = mid;
  }
  return sigma * hi;
}

/** What the coordinator publishes for one KPI of one benchmark run. */
export interface KpiRelease {
  readonly kpi: KpiId;
  readonly label: string;
  readonly status: 'released' | 'withheld';
  /** Why a KPI was withheld (names the rule), null when released. */
  readonly reason: string | null;
  /** Contributors, rounded and clamped at 0 (noisy under DP). */
  readonly contributors: number;
  /** Mean over contributors of their (range-clamped) values, in the KPI's unit. */
  readonly mean: number | null;
  /** Holds the noise-free mean with probability ≥ `confidence`. */
  readonly meanInterval: readonly [number, number] | null;
  /** Lower quartile, median and upper quartile, from the histogram. */
  readonly quartiles: readonly [number, number, number] | null;
  /** Each holds the corresponding noise-free histogram estimate with probability ≥ `confidence`. */
  readonly quartileIntervals: readonly (readonly [number, number])[] | null;
  /** Contributors per bin (noisy under DP, clamped at 0); empty when withheld. */
  readonly histogram: readonly number[];
  /** Bin edges in the KPI's unit (`histogram.length + 1` values); empty when withheld. */
  readonly edges: readonly number[];
  /** Standard deviation of the noise on each summed entry (0 without DP). */
  readonly noiseSd: number;
  /** Half-width, in contributors, within which every entry's noise stays at `confidence`. */
  readonly noiseBound: number;
  readonly confidence: number;
}

export interface ReleaseOptions {
  /** Noise standard deviation on each entry of the sum (0 without DP). */
  readonly sigma: number;
  /** Fewest contributors (noisy count, under DP) for the KPI to be released. */
  readonly minContributors: number;
  readonly bins: number;
  readonly confidence?: number;
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

/**
 * Turns one KPI's (noisy) secure sum into what is published, by post-processing only (no privacy
 * cost beyond the sum's):
 * - withheld, with the rule named, when the (noisy) number of contributors is below the minimum;
 * - the mean: (sum of normalised values ÷ count), mapped back onto the KPI's range. With every
 *   entry's noise within ±b (probability ≥ `confidence`, {@link noiseBound} over the block's
 *   `bins + 2` entries), the noise-free mean S/N lies in
 *   `[max(0, S̃ − b) / (Ñ + b), min(1, (S̃ + b) / max(1, Ñ − b))]`, since 0 ≤ S ≤ N and N ≥ 1;
 * - quartiles from the histogram ({@link quantilesFromHistogram}) with intervals
 *   ({@link quantileInterval}) that hold under the same event.
 * All intervals of a KPI therefore hold together with probability ≥ `confidence`.
 *
 * @example
 * releaseKpi(
 *   { kpi: 'repeat_purchase_rate', count: 6, normalisedSum: 1.8, histogram: [0, 0, 3, 3, 0] },
 *   { sigma: 0, minContributors: 5, bins: 5 },
 * ).mean; // 0.3
 */
export function releaseKpi(agg: KpiAggregate, opts: ReleaseOptions): KpiRelease {
  const def = kpi(agg.kpi);
  const confidence = opts.confidence ?? 0.95;
  if (agg.histogram.length !== opts.bins) {
    throw new ProtocolError(
      'InvalidArgument',
      `KPI ${agg.kpi}: histogram has ${agg.histogram.length} bins, expected ${opts.bins}`,
    );
  }
  if (![agg.count, agg.normalisedSum, ...agg.histogram].every(Number.isFinite)) {
    throw new ProtocolError('InvalidArgument', `KPI ${agg.kpi}: the sum holds a non-finite entry`);
  }
  const b = noiseBound(opts.sigma, confidence, opts.bins + 2);
  const contributors = Math.max(0, Math.round(agg.count));
  const common = {
    kpi: agg.kpi,
    label: def.label,
    contributors,
    noiseSd: opts.sigma,
    noiseBound: b,
    confidence,
  };
  if (!(contributors >= opts.minContributors)) {
    return {
      ...common,
      status: 'withheld',
      reason: `${def.label}: ${contributors} contributor${contributors === 1 ? '' : 's'}${opts.sigma > 0 ? ' (noisy count)' : ''}, the minimum is ${opts.minContributors} (minContributors)`,
      mean: null,
      meanInterval: null,
      quartiles: null,
      quartileIntervals: null,
      histogram: [],
      edges: [],
    };
  }
  const [lo, hi] = def.range;
  const toValue = (m: number) => lo + clamp01(m) * (hi - lo);
  const S = agg.normalisedSum;
  const N = agg.count;
  const meanLo = Math.max(0, S - b) / (N + b);
  const meanHi = Math.min(1, (S + b) / Math.max(1, N - b));
  const edges = binEdges(def, opts.bins);
  const ps = [0.25, 0.5, 0.75];
  const q = quantilesFromHistogram(agg.histogram, edges, ps, def.scale);
  return {
    ...common,
    status: 'released',
    reason: null,
    mean: toValue(S / N),
    meanInterval: [toValue(meanLo), toValue(meanHi)],
    quartiles: q.every(Number.isFinite) ? [q[0]!, q[1]!, q[2]!] : null,
    quartileIntervals: ps.map((p) => quantileInterval(agg.histogram, edges, p, b, def.scale)),
    histogram: agg.histogram.map((c) => Math.max(0, c)),
    edges,
  };
}

/**
 * Which quarter of the cooperative a value falls in (1 = below the lower quartile … 4 = above the
 * upper quartile), by the released quartiles; a value on a quartile counts to the quarter above.
 */
export function quarterOf(
  value: number,
  quartiles: readonly [number, number, number],
): 1 | 2 | 3 | 4 {
  if (value < quartiles[0]) return 1;
  if (value < quartiles[1]) return 2;
  if (value < quartiles[2]) return 3;
  return 4;
}
