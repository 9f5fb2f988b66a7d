import { DEMAND_HISTORY } from '@coopfl/protocol/models';
import type { StoreSource } from '../store/source';
import { seasonalNaiveMae } from './metrics';
import {
  DAY_MS,
  bool,
  dayOf,
  epochMs,
  isCancelled,
  num,
  readItems,
  readOrders,
  readProducts,
  readShopRows,
  str,
} from './shop-data';

/**
 * Demand's daily series: reading daily units per catalog key from the store (daily sales or order
 * lines) and the features of one forecast origin.
 */

const SCALE_EPSILON = 0.01;
/**
 * Days with sales a series needs in the training window. Rarer sellers are skipped: their scale
 * is so small that one sale becomes a huge scaled target, which would dominate the shared
 * network's loss on every member.
 */
export const MIN_SALE_DAYS = 14;

/** One shop's daily unit series of a catalog key, from the shop's first to its last day. */
export interface DemandSeries {
  readonly catalogKey: string;
  /** Units per day (index 0 = the shop's first day). */
  readonly units: Float64Array;
  /** Average selling price per day (NaN when unknown or nothing sold). */
  readonly price: Float64Array;
  /** Promotion / holiday flags per day (from daily sales; all 0 when unknown). */
  readonly promo: Uint8Array;
  readonly holiday: Uint8Array;
  /** Mean daily units over the training window (≥ ε): the series' unit of account. */
  readonly scale: number;
  /** Mean price over the training window (NaN when unknown). */
  readonly meanPrice: number;
  /**
   * In-sample MAE of the naive weekly forecast (next week's units = this week's) over the training
   * window's whole weeks, in units per week: the scale of weekly MASE.
   */
  readonly naiveMae: number;
}

/** Sparse per-day sums of one catalog key while reading. */
export interface RawSeries {
  units: Map<number, number>;
  revenue: Map<number, number>;
  priced: Map<number, number>;
  promo: Set<number>;
  holiday: Set<number>;
}

function rawSeries(map: Map<string, RawSeries>, key: string): RawSeries {
  let s = map.get(key);
  if (!s) {
    s = {
      units: new Map(),
      revenue: new Map(),
      priced: new Map(),
      promo: new Set(),
      holiday: new Set(),
    };
    map.set(key, s);
  }
  return s;
}

function add(m: Map<number, number>, day: number, v: number): void {
  m.set(day, (m.get(day) ?? 0) + v);
}

/** Daily units per catalog key from `daily_sales` (preferred) or from non-cancelled order lines. */
export async function readDaily(
  source: StoreSource,
  storeId: string | undefined,
): Promise<{ raw: Map<string, RawSeries>; origin: 'daily_sales' | 'orders' }> {
  const raw = new Map<string, RawSeries>();
  if (source.has('dailySales')) {
    await readShopRows(source, 'dailySales', storeId, (r) => {
      const key = str(r.catalog_key);
      const t = epochMs(r.date);
      const units = num(r.units);
      if (key === undefined || t === undefined || units === undefined) return undefined;
      const day = dayOf(t);
      const s = rawSeries(raw, key);
      add(s.units, day, units);
      const revenue = num(r.revenue);
      if (revenue !== undefined && units > 0) {
        add(s.revenue, day, revenue);
        add(s.priced, day, units);
      }
      if (bool(r.promo)) s.promo.add(day);
      if (bool(r.holiday)) s.holiday.add(day);
      return undefined;
    });
    if (raw.size > 0) return { raw, origin: 'daily_sales' };
  }
  const products = new Map((await readProducts(source, storeId)).map((p) => [p.productId, p]));
  const orderDay = new Map<string, number>();
  for (const o of await readOrders(source, storeId)) {
    if (!isCancelled(o)) orderDay.set(o.orderId, dayOf(o.createdAt));
  }
  for (const it of await readItems(source, storeId)) {
    const day = orderDay.get(it.orderId);
    const product = products.get(it.productId);
    if (day === undefined || product === undefined) continue;
    const s = rawSeries(raw, product.catalogKey);
    add(s.units, day, it.quantity);
    const price = it.unitPrice ?? product.price;
    if (price !== undefined) {
      add(s.revenue, day, price * it.quantity);
      add(s.priced, day, it.quantity);
    }
  }
  return { raw, origin: 'orders' };
}

/** Sums of whole weeks (7 days from index 0 on; a last partial week is left out). */
export function weeklySums(daily: ArrayLike<number>): Float64Array {
  const out = new Float64Array(Math.floor(daily.length / 7));
  for (let w = 0; w < out.length; w++) {
    for (let d = 0; d < 7; d++) out[w]! += daily[7 * w + d]!;
  }
  return out;
}

function mean(xs: ArrayLike<number>, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += xs[i]!;
  return to > from ? s / (to - from) : 0;
}

function meanPriceOf(price: Float64Array, from: number, to: number): number {
  let s = 0;
  let n = 0;
  for (let i = Math.max(0, from); i < to; i++) {
    const p = price[i]!;
    if (!Number.isNaN(p)) {
      s += p;
      n++;
    }
  }
  return n > 0 ? s / n : Number.NaN;
}

/** Days in a "year" for last-year features: 52 weeks, so a weekday lines up with itself. */
const YEAR_DAYS = 364;

/** What the features of every series of one shop share: its calendar and total daily units. */
export interface DemandShop {
  /** UTC day number of day index 0. */
  readonly firstDay: number;
  /**
   * The shop's units per day summed over every catalog key it sold (also keys too rare to be a
   * series of their own): the dense signal for shop-level trend and last year's season.
   */
  readonly totals: Float64Array;
}

/** The shop's units per day over `days` days from `firstDay`, all catalog keys summed. */
export function shopTotals(
  raw: ReadonlyMap<string, RawSeries>,
  firstDay: number,
  days: number,
): Float64Array {
  const totals = new Float64Array(days);
  for (const r of raw.values()) {
    for (const [day, u] of r.units) {
      if (day >= firstDay && day < firstDay + days) totals[day - firstDay]! += u;
    }
  }
  return totals;
}

/** Σ xs[from..to) over the part of the range inside the array. */
function sumRange(xs: Float64Array, from: number, to: number): number {
  let s = 0;
  for (let i = Math.max(0, from); i < Math.min(to, xs.length); i++) s += xs[i]!;
  return s;
}

/** A ratio − 1 clipped to [−1, 3], 0 when the denominator is empty. */
function lift(num: number, den: number): number {
  return den > 0 ? Math.max(-1, Math.min(3, num / den - 1)) : 0;
}

/** An example's level floor, as a share of its series' long-run mean (see `DEMAND_FEATURES`). */
const LEVEL_FLOOR = 0.25;

/**
 * The level of series `s` at origin `o`: its mean daily units over the 28 history days, floored
 * at a quarter of the long-run mean (a run of empty days must not make one sale look huge). Lags
 * and targets of the example are in this unit.
 */
export function demandLevel(s: DemandSeries, o: number): number {
  let sum = 0;
  for (let i = Math.max(0, o - DEMAND_HISTORY + 1); i <= o; i++) sum += s.units[i]!;
  return Math.max(sum / DEMAND_HISTORY, LEVEL_FLOOR * s.scale);
}

/**
 * The features of series `s` at origin `o` (day index of the last history day), in
 * `DEMAND_FEATURES` order, written to `out` at `at`; returns the example's level
 * ({@link demandLevel}), the unit of its lags and targets. Calendar features describe the first
 * forecast day; promotion and holiday flags are those planned for it (known in advance). Only days
 * up to `o` are read (last year's forecast weeks lie a year before the origin).
 */
export function demandFeatures(
  s: DemandSeries,
  shop: DemandShop,
  o: number,
  out: Float32Array,
  at = 0,
): number {
  const level = demandLevel(s, o);
  let k = at;
  let sum7 = 0;
  let sum28 = 0;
  for (let lag = DEMAND_HISTORY; lag >= 1; lag--) {
    const i = o - lag + 1;
    const v = i >= 0 ? s.units[i]! / level : 0;
    out[k++] = v;
    sum28 += v;
    if (lag <= 7) sum7 += v;
  }
  out[k++] = sum7 / 7;
  out[k++] = sum28 / DEMAND_HISTORY;
  const t = shop.totals;
  out[k++] = lift(sumRange(t, o - 6, o + 1) * 4, sumRange(t, o - 27, o + 1));
  // Last year: the four forecast weeks against the four weeks before them, a year back.
  const ly = o - YEAR_DAYS;
  const before = sumRange(t, ly - 27, ly + 1) / 4;
  const known = ly - 27 >= 0 && before > 0;
  for (let w = 0; w < 4; w++) {
    out[k++] = known ? lift(sumRange(t, ly + 1 + 7 * w, ly + 8 + 7 * w), before) : 0;
  }
  out[k++] = known ? 1 : 0;
  const next = shop.firstDay + o + 1;
  const dow = (((next + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday (getUTCDay 4)
  for (let d = 0; d < 7; d++) out[k++] = d === dow ? 1 : 0;
  const month = new Date(next * DAY_MS).getUTCMonth();
  out[k++] = Math.sin((2 * Math.PI * month) / 12);
  out[k++] = Math.cos((2 * Math.PI * month) / 12);
  const recent = meanPriceOf(s.price, o - 6, o + 1);
  const ratio = Number.isNaN(recent) || !(s.meanPrice > 0) ? 0 : recent / s.meanPrice - 1;
  out[k++] = Math.max(-1, Math.min(1, ratio));
  out[k++] = o + 1 < s.promo.length ? s.promo[o + 1]! : 0;
  out[k++] = o + 1 < s.holiday.length ? s.holiday[o + 1]! : 0;
  out[k++] = Math.log1p(level);
  out[k++] = Math.log(level / s.scale);
  return level;
}

/** A dense series over the shop's days, or undefined when it sold on too few training days. */
export function buildSeries(
  key: string,
  r: RawSeries,
  firstDay: number,
  days: number,
  trainDays: number,
): DemandSeries | undefined {
  const units = new Float64Array(days);
  const price = new Float64Array(days).fill(Number.NaN);
  const promo = new Uint8Array(days);
  const holiday = new Uint8Array(days);
  for (const [day, u] of r.units)
    if (day >= firstDay && day < firstDay + days) units[day - firstDay] = u;
  for (const [day, rev] of r.revenue) {
    const q = r.priced.get(day) ?? 0;
    if (q > 0 && day >= firstDay && day < firstDay + days) price[day - firstDay] = rev / q;
  }
  for (const day of r.promo)
    if (day >= firstDay && day < firstDay + days) promo[day - firstDay] = 1;
  for (const day of r.holiday)
    if (day >= firstDay && day < firstDay + days) holiday[day - firstDay] = 1;
  const trainMean = mean(units, 0, trainDays);
  let saleDays = 0;
  for (let i = 0; i < trainDays; i++) if (units[i]! > 0) saleDays++;
  if (!(trainMean > 0) || saleDays < MIN_SALE_DAYS) return undefined;
  return {
    catalogKey: key,
    units,
    price,
    promo,
    holiday,
    scale: Math.max(SCALE_EPSILON, trainMean),
    meanPrice: meanPriceOf(price, 0, trainDays),
    naiveMae: seasonalNaiveMae(weeklySums(units.subarray(0, trainDays)), 1),
  };
}
