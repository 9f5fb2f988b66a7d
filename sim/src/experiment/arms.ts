import type { ExampleSet, LogitOffset, Metrics, PreparedData } from '@coopfl/node/models';
import type { MetricValues } from './results';

/** Prepared data of the models that train on one example set (all three of ours). */
export type TrainableData = PreparedData & { readonly train: ExampleSet };

/** Metrics as JSON values: non-finite numbers (unmeasurable on this shop) become null. */
export function metricValues(m: Metrics): MetricValues {
  return Object.fromEntries(
    Object.keys(m)
      .sort()
      .map((k) => [k, Number.isFinite(m[k]) ? m[k]! : null]),
  );
}

function concat(parts: readonly (Float32Array | Int32Array)[]): Float32Array | Int32Array {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = parts[0] instanceof Int32Array ? new Int32Array(n) : new Float32Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The training examples of every shop in one set: the "centralized" upper bound, as if all shops
 * had pooled their data. Each shop's features are computed on its own data exactly as a node does
 * (per-series scales, its own customers), so only where training happens changes.
 *
 * @example
 * const pooled = poolTraining(datas); // datas: one shop's prepared data each, same architecture
 */
export function poolTraining<D extends TrainableData>(datas: readonly D[]): D {
  if (datas.length === 0) throw new Error('no shop has training data');
  const sets = datas.map((d) => d.train);
  const width = sets[0]!.width;
  const yWidth = sets[0]!.yWidth;
  if (sets.some((s) => s.width !== width || s.yWidth !== yWidth)) {
    throw new Error('shops prepared different feature widths; cannot pool');
  }
  const size = sets.reduce((s, x) => s + x.size, 0);
  const train: ExampleSet = {
    x: concat(sets.map((s) => s.x)),
    y: concat(sets.map((s) => s.y)),
    width,
    yWidth,
    size,
    ...(sets.some((s) => s.logitOffset) ? { logitOffset: pooledOffsets(sets, size) } : {}),
  };
  const first = datas[0]!;
  return { ...first, train, counts: { ...first.counts, train: train.size } };
}

/**
 * The shops' logit offsets as one table (one row per shop) and each pooled example's row in it:
 * every example keeps its own shop's offset.
 */
function pooledOffsets(sets: readonly ExampleSet[], size: number): LogitOffset {
  const rows = new Int32Array(size);
  let at = 0;
  sets.forEach((s, shop) => {
    if (!s.logitOffset || s.logitOffset.rows) {
      throw new Error('pooling needs one logit offset row per shop');
    }
    rows.fill(shop, at, at + s.size);
    at += s.size;
  });
  return { table: concat(sets.map((s) => s.logitOffset!.table)) as Float32Array, rows };
}

/** Mean and median over the non-null values of each metric. */
export function summarize(rows: readonly (MetricValues | null | undefined)[]): {
  mean: MetricValues;
  median: MetricValues;
  shops: number;
} {
  const present = rows.filter((r): r is MetricValues => !!r);
  const names = [...new Set(present.flatMap((r) => Object.keys(r)))].sort();
  const mean: MetricValues = {};
  const median: MetricValues = {};
  for (const n of names) {
    const v = present.map((r) => r[n]).filter((x): x is number => typeof x === 'number');
    mean[n] = v.length ? v.reduce((s, x) => s + x, 0) / v.length : null;
    median[n] = medianOf(v);
  }
  return { mean, median, shops: present.length };
}

/** The median of `v` (mean of the two middle values), null when empty. */
export function medianOf(v: readonly number[]): number | null {
  if (v.length === 0) return null;
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
