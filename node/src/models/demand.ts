import {
  DEMAND_FEATURES,
  DEMAND_HISTORY,
  DEMAND_HORIZON,
  type Architecture,
} from '@coopfl/protocol/models';
import { CoopNodeError } from '../errors';
import type { StoreSource } from '../store/source';
import {
  buildSeries,
  demandFeatures,
  readDaily,
  shopTotals,
  type DemandSeries,
  type DemandShop,
} from './demand-series';
import { mase, wape } from './metrics';
import { isoDay } from './shop-data';
import { packRows, splitDays } from './split';
import { emptySet, predictAll, trainLocal, type ExampleSet } from './train-loop';
import type { Metrics, ModelRuntime, PreparedData, PrepareOptions } from './types';
import { withModel } from './weights';

export { demandFeatures, type DemandSeries, type DemandShop } from './demand-series';

const WIDTH = DEMAND_FEATURES.length;
/** Cap on examples per shop: origins are thinned evenly above it (big shops × two years). */
const MAX_EXAMPLES = 150_000;

/**
 * Which series and origin (day index of the last history day) each example of a split is, and
 * its level: units per unit of its scaled lags and targets.
 */
export interface DemandMeta {
  readonly series: Int32Array;
  readonly origin: Int32Array;
  readonly level: Float64Array;
}

/** The demand model's prepared data for one shop. */
export interface DemandData extends PreparedData {
  readonly kind: 'demand';
  /** Where the series came from: the shop's daily sales, or summed order lines. */
  readonly origin: 'daily_sales' | 'orders';
  /** UTC day numbers of the first and last observed day. */
  readonly firstDay: number;
  readonly lastDay: number;
  readonly series: readonly DemandSeries[];
  /** The shop's calendar and total units per day (shop-level features). */
  readonly shop: DemandShop;
  readonly train: ExampleSet;
  readonly validation: ExampleSet;
  readonly test: ExampleSet;
  readonly trainMeta: DemandMeta;
  readonly validationMeta: DemandMeta;
  readonly testMeta: DemandMeta;
}

/**
 * Prepares one shop's demand data: a daily series per catalog key, examples at every origin day
 * (thinned evenly above {@link MAX_EXAMPLES}), split by date so that a training example's target
 * window ends before validation begins and a validation example's before the test period.
 */
async function prepare(source: StoreSource, opts: PrepareOptions): Promise<DemandData> {
  const { raw, origin } = await readDaily(source, opts.storeId);
  let firstDay = Infinity;
  let lastDay = -Infinity;
  for (const s of raw.values()) {
    for (const day of s.units.keys()) {
      firstDay = Math.min(firstDay, day);
      lastDay = Math.max(lastDay, day);
    }
  }
  const days = lastDay - firstDay + 1;
  const window = DEMAND_HISTORY + DEMAND_HORIZON;
  if (!Number.isFinite(days) || days < 2 * window) {
    throw new CoopNodeError(
      'InsufficientData',
      `demand needs at least ${2 * window} days of sales history; the shop has ${Number.isFinite(days) ? days : 0}`,
    );
  }
  const split = splitDays(firstDay, lastDay, opts);
  const valIdx = split.validationFrom - firstDay;
  const testIdx = split.testFrom - firstDay;
  if (valIdx < window || testIdx - valIdx < DEMAND_HORIZON || days - testIdx < DEMAND_HORIZON) {
    throw new CoopNodeError(
      'InsufficientData',
      `demand's validation and test periods must each cover the ${DEMAND_HORIZON}-day horizon: the shop's ${days} days are too few`,
    );
  }
  const series: DemandSeries[] = [];
  for (const key of [...raw.keys()].sort()) {
    const s = buildSeries(key, raw.get(key)!, firstDay, days, valIdx);
    if (s) series.push(s);
  }
  if (series.length === 0) {
    throw new CoopNodeError(
      'InsufficientData',
      'no catalog key sold on enough days of the training period',
    );
  }
  const shop: DemandShop = { firstDay, totals: shopTotals(raw, firstDay, days) };
  const stride = Math.max(1, Math.ceil((series.length * days) / MAX_EXAMPLES));
  const rows = {
    train: [] as Float32Array[],
    validation: [] as Float32Array[],
    test: [] as Float32Array[],
  };
  const ys = {
    train: [] as Float32Array[],
    validation: [] as Float32Array[],
    test: [] as Float32Array[],
  };
  const meta = {
    train: { s: [] as number[], o: [] as number[], l: [] as number[] },
    validation: { s: [] as number[], o: [] as number[], l: [] as number[] },
    test: { s: [] as number[], o: [] as number[], l: [] as number[] },
  };
  series.forEach((s, si) => {
    for (let o = DEMAND_HISTORY - 1; o + DEMAND_HORIZON < days; o += stride) {
      const start = o + 1;
      const end = o + DEMAND_HORIZON; // last target day index
      let part: 'train' | 'validation' | 'test';
      if (end < valIdx) part = 'train';
      else if (start >= valIdx && end < testIdx) part = 'validation';
      else if (start >= testIdx) part = 'test';
      else continue; // the target window straddles a boundary
      const x = new Float32Array(WIDTH);
      const level = demandFeatures(s, shop, o, x);
      const y = new Float32Array(DEMAND_HORIZON);
      for (let h = 0; h < DEMAND_HORIZON; h++) y[h] = s.units[start + h]! / level;
      rows[part].push(x);
      ys[part].push(y);
      meta[part].s.push(si);
      meta[part].o.push(o);
      meta[part].l.push(level);
    }
  });
  const set = (p: 'train' | 'validation' | 'test'): ExampleSet =>
    rows[p].length === 0
      ? emptySet(WIDTH, DEMAND_HORIZON)
      : {
          x: packRows(rows[p], WIDTH, (n) => new Float32Array(n)),
          width: WIDTH,
          y: packRows(ys[p], DEMAND_HORIZON, (n) => new Float32Array(n)),
          yWidth: DEMAND_HORIZON,
          size: rows[p].length,
        };
  const train = set('train');
  const validation = set('validation');
  const test = set('test');
  return {
    kind: 'demand',
    origin,
    counts: { train: train.size, validation: validation.size, test: test.size },
    split: { validationFrom: isoDay(split.validationFrom), testFrom: isoDay(split.testFrom) },
    firstDay,
    lastDay,
    series,
    shop,
    train,
    validation,
    test,
    trainMeta: metaOf(meta.train),
    validationMeta: metaOf(meta.validation),
    testMeta: metaOf(meta.test),
  };
}

const metaOf = (m: { s: number[]; o: number[]; l: number[] }): DemandMeta => ({
  series: Int32Array.from(m.s),
  origin: Int32Array.from(m.o),
  level: Float64Array.from(m.l),
});

/** Weeks in the forecast horizon: the main metrics score weekly totals. */
const WEEKS = DEMAND_HORIZON / 7;

/**
 * Metrics of scaled daily forecasts `pred` (one row of {@link DEMAND_HORIZON} per example) on a
 * split. The main metric, `wape`, scores the four weekly totals of each forecast in units: what a
 * shop restocks by, and a fair test of a daily forecast of slow sellers — most of their days sell
 * nothing, so daily absolute error rewards forecasting zero (kept as `wape_daily` to show it).
 * `mase` is weekly too, each key's error over its in-sample naive weekly error; `loss` is the
 * scaled daily MSE the network trains on.
 */
function demandMetrics(
  data: DemandData,
  set: ExampleSet,
  meta: DemandMeta,
  pred: Float32Array,
): Metrics {
  const weeks = set.size * WEEKS;
  const actual = new Float64Array(weeks);
  const forecast = new Float64Array(weeks);
  const scale = new Float64Array(weeks);
  const n = set.size * DEMAND_HORIZON;
  const actualDaily = new Float64Array(n);
  const forecastDaily = new Float64Array(n);
  let se = 0;
  for (let e = 0; e < set.size; e++) {
    const s = data.series[meta.series[e]!]!;
    const level = meta.level[e]!;
    for (let h = 0; h < DEMAND_HORIZON; h++) {
      const k = e * DEMAND_HORIZON + h;
      const d = pred[k]! - set.y[k]!;
      se += d * d;
      actualDaily[k] = set.y[k]! * level;
      forecastDaily[k] = Math.max(0, pred[k]! * level);
      const w = e * WEEKS + Math.floor(h / 7);
      actual[w]! += actualDaily[k];
      forecast[w]! += forecastDaily[k];
      scale[w] = s.naiveMae;
    }
  }
  return {
    wape: wape(actual, forecast),
    mase: mase(actual, forecast, scale),
    loss: n > 0 ? se / n : Number.NaN,
    wape_daily: wape(actualDaily, forecastDaily),
  };
}

function splitOf(data: DemandData, split: 'validation' | 'test'): [ExampleSet, DemandMeta] {
  return split === 'test' ? [data.test, data.testMeta] : [data.validation, data.validationMeta];
}

/** "Same as last week": the forecast for day origin + h repeats day origin + h − 7·k of the last week. */
function seasonalNaive(data: DemandData, set: ExampleSet, meta: DemandMeta): Float32Array {
  const pred = new Float32Array(set.size * DEMAND_HORIZON);
  for (let e = 0; e < set.size; e++) {
    const s = data.series[meta.series[e]!]!;
    const o = meta.origin[e]!;
    for (let h = 0; h < DEMAND_HORIZON; h++) {
      pred[e * DEMAND_HORIZON + h] = s.units[o - 6 + (h % 7)]! / meta.level[e]!;
    }
  }
  return pred;
}

/**
 * The demand model (DESIGN §7): daily units per catalog key for the next 28 days, from scaled lags,
 * rolling means, calendar, price and promotions. One network for every shop and series, since
 * units are in each series' own scale.
 * @example
 * const data = await demandRuntime.prepare(source, { arch, storeId: 'shop-01' });
 * const { weights } = await demandRuntime.train(arch, global, data, cfg);
 * demandRuntime.evaluate(arch, weights, data); // { wape, mase, loss }
 * demandRuntime.baselines(data).seasonal_naive; // same metrics, "same as last week"
 */
export const demandRuntime: ModelRuntime<DemandData> = {
  kind: 'demand',
  prepare,
  train: (arch, global, data, cfg) => trainLocal(arch, global, data.train, cfg),
  evaluate(arch, weights, data, split = 'test') {
    const [set, meta] = splitOf(data, split);
    const pred = withModel(arch, weights, (m) => predictAll(m, set));
    return demandMetrics(data, set, meta, pred);
  },
  baselines(data) {
    return {
      seasonal_naive: demandMetrics(
        data,
        data.test,
        data.testMeta,
        seasonalNaive(data, data.test, data.testMeta),
      ),
    };
  },
};

/** A served forecast: units per day from `from` on. */
export interface DemandForecast {
  readonly catalogKey: string;
  /** The first forecast day (the day after the last observed one), `YYYY-MM-DD`. */
  readonly from: string;
  readonly units: number[];
}

/**
 * Forecasts `days` (1–28) days of units for a catalog key of the shop, from the day after the
 * last observed day. Serving runs on the node (DESIGN §7), on the model the node holds.
 *
 * @throws CoopNodeError `InvalidArgument` for an unknown catalog key (or one skipped for too
 *   little history) or a bad `days`.
 * @example
 * const { from, units } = forecast(arch, weights, data, 'CK00042', 14);
 */
export function forecast(
  arch: Architecture,
  weights: Float32Array,
  data: DemandData,
  catalogKey: string,
  days = 14,
): DemandForecast {
  if (!Number.isInteger(days) || days < 1 || days > DEMAND_HORIZON) {
    throw new CoopNodeError('InvalidArgument', `days must be an integer in [1, ${DEMAND_HORIZON}]`);
  }
  const s = data.series.find((x) => x.catalogKey === catalogKey);
  if (!s) {
    throw new CoopNodeError(
      'InvalidArgument',
      'unknown catalog key: the shop has no sales series for it (or too little history)',
    );
  }
  const x = new Float32Array(WIDTH);
  const o = data.lastDay - data.firstDay;
  const level = demandFeatures(s, data.shop, o, x);
  const pred = withModel(arch, weights, (m) => predictAll(m, { x, width: WIDTH, size: 1 }));
  return {
    catalogKey,
    from: isoDay(data.lastDay + 1),
    units: Array.from(pred.subarray(0, days), (v) => Math.max(0, v * level)),
  };
}
