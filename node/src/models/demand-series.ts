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
  /** In-sample seasonal-naive (lag 7) MAE over the training window, in units: MASE's scale. */
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

/**
 * The features of series `s` at origin `o` (day index of the last history day), in
 * `DEMAND_FEATURES` order, written to `out` at `at`. Calendar features describe the first
 * forecast day; promotion and holiday flags are those planned for it (known in advance).
 */
export function demandFeatures(
  s: DemandSeries,
  firstDay: number,
  o: number,
  out: Float32Array,
  at = 0,
): void {
  let k = at;
  let sum7 = 0;
  let sum28 = 0;
  for (let lag = DEMAND_HISTORY; lag >= 1; lag--) {
    const i = o - lag + 1;
    const v = i >= 0 ? s.units[i]! / s.scale : 0;
    out[k++] = v;
    sum28 += v;
    if (lag <= 7) sum7 += v;
  }
  out[k++] = sum7 / 7;
  out[k++] = sum28 / DEMAND_HISTORY;
  const next = firstDay + o + 1;
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
  out[k++] = Math.log1p(s.scale);
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
    naiveMae: seasonalNaiveMae(units.subarray(0, trainDays), 7),
  };
}
