import type { KpiId } from './kpis';
import { binOf, kpi } from './kpis';

/**
 * What a benchmark run asks each member for: the KPIs (in vector order) and the histogram size.
 * A member's input has, per KPI, `bins + 2` entries, all in [0, 1]:
 * `[contributes, normalised value, one-hot histogram bin × bins]`, where the normalised value is
 * `(clamp(v) − lo) / (hi − lo)` over the KPI's range. A KPI the member does not contribute (no
 * consent, no data, not in the peer group) is all zeros, so the sum over members is, per KPI, the
 * number of contributors, the sum of their normalised values and their histogram.
 */
export interface BenchmarkLayout {
  readonly kpis: readonly KpiId[];
  readonly bins: number;
}

export const slotsPerKpi = (layout: BenchmarkLayout) => layout.bins + 2;
export const benchmarkDim = (layout: BenchmarkLayout) => layout.kpis.length * slotsPerKpi(layout);

/**
 * Member-level L2 sensitivity of the summed vector: one member changes at most three entries of
 * each KPI's block (its count, its value, its bin), each by at most 1.
 */
export const benchmarkSensitivity = (layout: BenchmarkLayout) => Math.sqrt(3 * layout.kpis.length);

/** A member's input vector; `values` holds the KPIs it contributes (finite numbers only). */
export function encodeBenchmark(
  layout: BenchmarkLayout,
  values: Partial<Record<KpiId, number>>,
): Float64Array {
  const width = slotsPerKpi(layout);
  const out = new Float64Array(benchmarkDim(layout));
  layout.kpis.forEach((id, i) => {
    const v = values[id];
    if (v === undefined) return;
    if (!Number.isFinite(v)) throw new Error(`KPI ${id}: value ${v} is not a finite number`);
    const k = kpi(id);
    const [lo, hi] = k.range;
    const at = i * width;
    out[at] = 1;
    out[at + 1] = (Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo);
    out[at + 2 + binOf(k, layout.bins, v)] = 1;
  });
  return out;
}

/** One KPI's block of the (possibly noisy) sum over members. */
export interface KpiAggregate {
  readonly kpi: KpiId;
  /** Contributors (noisy under DP). */
  readonly count: number;
  /** Sum of the contributors' normalised values (noisy under DP). */
  readonly normalisedSum: number;
  /** Contributors per histogram bin (noisy under DP). */
  readonly histogram: readonly number[];
}

/** Splits a summed vector into its KPI blocks; throws when its length does not fit the layout. */
export function decodeBenchmark(layout: BenchmarkLayout, sum: ArrayLike<number>): KpiAggregate[] {
  if (sum.length !== benchmarkDim(layout)) {
    throw new Error(
      `a benchmark sum of ${layout.kpis.length} KPIs × ${slotsPerKpi(layout)} entries has ${benchmarkDim(layout)} entries, got ${sum.length}`,
    );
  }
  const width = slotsPerKpi(layout);
  return layout.kpis.map((id, i) => {
    const at = i * width;
    return {
      kpi: id,
      count: sum[at]!,
      normalisedSum: sum[at + 1]!,
      histogram: Array.from({ length: layout.bins }, (_, b) => sum[at + 2 + b]!),
    };
  });
}
