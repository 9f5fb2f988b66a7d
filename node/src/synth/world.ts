import type { RandomSource } from '@coopfl/protocol';
import { randomBelow } from '@coopfl/protocol';
import type { Day } from './calendar';
import type { SynthOptions } from './options';
import {
  cumulative,
  dirichlet,
  integer,
  logNormal,
  normal,
  pickWeighted,
  shuffle,
  uniform,
} from './random';

/**
 * The shared world of a synthetic cooperative: the catalog (keys, categories, latent item vectors,
 * co-purchase successors, seasonality per category) and the shops (size, assortment, prices,
 * promotions, growth, fraud rate). Generated before any order, in a fixed order of draws.
 */

const CATEGORY_NAMES = [
  'grocery',
  'beverages',
  'household',
  'beauty',
  'baby',
  'pets',
  'toys',
  'books',
  'electronics',
  'garden',
  'sports',
  'fashion',
  'stationery',
  'kitchen',
  'health',
  'crafts',
];

/** Shops' home countries; customers mostly come from the shop's. */
export const HOME_COUNTRIES = ['DE', 'FR', 'NL', 'AT', 'BE', 'IT', 'ES', 'PL', 'SE', 'DK'] as const;
/** Shipping destinations over-represented in fraud (freight forwarders, far away). */
export const RISKY_COUNTRIES = ['NG', 'RU', 'BR', 'US', 'GB', 'CN', 'UA', 'TR'] as const;

/** The cooperative's shared catalog. */
export interface Catalog {
  readonly categoryNames: string[];
  /** Per category: yearly amplitude and phase (day of year of the peak). */
  readonly seasonAmplitude: Float64Array;
  readonly seasonPeak: Float64Array;
  readonly keys: string[];
  /** Category index of each key. */
  readonly category: Int32Array;
  /** Global popularity weight of each key. */
  readonly popularity: Float64Array;
  /** Latent item vectors, key-major, `dims` per key. */
  readonly vectors: Float64Array;
  readonly dims: number;
  readonly basePrice: Float64Array;
  /** Co-purchase successors of each key (what is often bought next). */
  readonly successors: number[][];
}

/** A promotion: a discount on one category of a shop for a few days. */
export interface Promotion {
  readonly start: number;
  readonly end: number;
  readonly category: number;
  readonly discount: number;
}

/** One member shop. */
export interface Shop {
  readonly storeId: string;
  readonly index: number;
  readonly sizeFactor: number;
  readonly customers: number;
  /** Day index the shop opens (no order before it). */
  readonly openDay: number;
  readonly country: string;
  readonly categoryMix: number[];
  /** Catalog-key indices carried, in the shop's product-id order. */
  readonly assortment: number[];
  readonly productIds: string[];
  /** Shop price per assortment slot. */
  readonly prices: Float64Array;
  readonly promotions: Promotion[];
  /** Promotion index active on each day, or -1. */
  readonly promoByDay: Int32Array;
  /** Cumulative relative order intensity per day (sampling order days). */
  readonly dayIntensity: Float64Array;
  readonly fraudRate: number;
}

/**
 * Demand multiplier of promoted items: price elasticity 3, so 20 % off ≈ ×1.95. A promotion adds
 * demand (the shop's order intensity rises with the promoted category's share) rather than only
 * shifting baskets between categories.
 */
export function promoBoost(discount: number): number {
  return (1 / (1 - discount)) ** 3;
}

/** Multiplier of a category on a day from its yearly cycle. */
export function categorySeason(catalog: Catalog, category: number, doy: number): number {
  const a = catalog.seasonAmplitude[category] ?? 0;
  const peak = catalog.seasonPeak[category] ?? 0;
  return Math.exp(a * Math.cos((2 * Math.PI * (doy - peak)) / 365));
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Builds the shared catalog. */
export function buildCatalog(rng: RandomSource, o: SynthOptions): Catalog {
  const nc = o.categories;
  const dims = o.tasteDimensions;
  const categoryNames = Array.from({ length: nc }, (_, c) =>
    nc <= CATEGORY_NAMES.length ? CATEGORY_NAMES[c]! : `category-${pad(c + 1, 3)}`,
  );
  const seasonAmplitude = new Float64Array(nc);
  const seasonPeak = new Float64Array(nc);
  const priceMu = new Float64Array(nc);
  const catVectors = new Float64Array(nc * dims);
  for (let c = 0; c < nc; c++) {
    seasonAmplitude[c] = uniform(rng, 0.05, 0.6);
    seasonPeak[c] = uniform(rng, 0, 365);
    priceMu[c] = Math.log(uniform(rng, 4, 80));
    for (let j = 0; j < dims; j++) catVectors[c * dims + j] = normal(rng);
  }
  const n = o.catalogSize;
  const ranks = shuffle(
    rng,
    Array.from({ length: n }, (_, i) => i),
  );
  const keys: string[] = [];
  const category = new Int32Array(n);
  const popularity = new Float64Array(n);
  const vectors = new Float64Array(n * dims);
  const basePrice = new Float64Array(n);
  const byCategory: number[][] = Array.from({ length: nc }, () => []);
  for (let k = 0; k < n; k++) {
    keys.push(`CK${pad(k + 1, Math.max(5, String(n).length))}`);
    const c = k < nc ? k : integer(rng, 0, nc - 1); // every category has at least one key
    category[k] = c;
    byCategory[c]!.push(k);
    popularity[k] = 1 / (ranks[k]! + 1) ** 0.8;
    for (let j = 0; j < dims; j++)
      vectors[k * dims + j] = catVectors[c * dims + j]! + 0.6 * normal(rng);
    basePrice[k] = logNormal(rng, priceMu[c]!, 0.5);
  }
  const successors: number[][] = [];
  for (let k = 0; k < n; k++) {
    const same = byCategory[category[k]!]!;
    const next: number[] = [];
    for (let t = 0; t < 3; t++) {
      const pool = t < 2 && same.length > 1 ? same : null;
      let s = pool ? pool[integer(rng, 0, pool.length - 1)]! : integer(rng, 0, n - 1);
      if (s === k) s = (k + 1) % n;
      next.push(s);
    }
    successors.push(next);
  }
  return {
    categoryNames,
    seasonAmplitude,
    seasonPeak,
    keys,
    category,
    popularity,
    vectors,
    dims,
    basePrice,
    successors,
  };
}

/** Shop size factors: rank^-skew with shuffled ranks and ±10 % jitter, scaled to median 1. */
function sizeFactors(rng: RandomSource, shops: number, skew: number): number[] {
  const ranks = shuffle(
    rng,
    Array.from({ length: shops }, (_, i) => i + 1),
  );
  const raw = ranks.map((r) => r ** -skew * logNormal(rng, 0, 0.1));
  const sorted = [...raw].sort((a, b) => a - b);
  const mid = shops / 2;
  const median = shops % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return raw.map((x) => x / median);
}

/** Builds the member shops over the shared catalog and calendar. */
export function buildShops(
  rng: RandomSource,
  o: SynthOptions,
  catalog: Catalog,
  days: Day[],
): Shop[] {
  const factors = sizeFactors(rng, o.shops, o.sizeSkew);
  const nc = o.categories;
  const n = catalog.keys.length;
  const width = Math.max(2, String(o.shops).length);
  const shops: Shop[] = [];
  for (let s = 0; s < o.shops; s++) {
    const sizeFactor = factors[s]!;
    const categoryMix = dirichlet(rng, Array<number>(nc).fill(o.categoryConcentration));
    // Assortment: bigger shops carry more; draw keys without replacement in proportion to
    // mix × popularity (Efraimidis–Spirakis keys u^(1/w)).
    const size = Math.max(Math.min(n, 10), Math.round(n * Math.min(0.8, 0.2 * sizeFactor ** 0.4)));
    const scored: { k: number; score: number }[] = [];
    for (let k = 0; k < n; k++) {
      const w = (categoryMix[catalog.category[k]!]! + 1e-4) * catalog.popularity[k]! ** 0.5;
      scored.push({ k, score: Math.log(uniform(rng) + 1e-300) / w });
    }
    scored.sort((a, b) => b.score - a.score || a.k - b.k);
    const assortment = shuffle(
      rng,
      scored.slice(0, size).map((x) => x.k),
    );
    const productIds = shuffle(
      rng,
      Array.from({ length: size }, (_, i) => `SKU${pad(i + 1, 5)}`),
    );
    const priceLevel = logNormal(rng, 0, 0.08);
    const prices = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      const p = catalog.basePrice[assortment[i]!]! * priceLevel * logNormal(rng, 0, 0.08);
      prices[i] = Math.max(0.99, Math.round(p) - 0.01);
    }
    // Promotions every 3–7 weeks on a category the shop carries, 3–7 days, 10–30 % off.
    const carried = Array<number>(nc).fill(0);
    for (const k of assortment)
      carried[catalog.category[k]!]! += categoryMix[catalog.category[k]!]!;
    const promotions: Promotion[] = [];
    const promoByDay = new Int32Array(days.length).fill(-1);
    for (let d = integer(rng, 5, 30); d < days.length; d += integer(rng, 21, 49)) {
      const end = Math.min(days.length - 1, d + integer(rng, 2, 6));
      promotions.push({
        start: d,
        end,
        category: pickWeighted(rng, carried),
        discount: uniform(rng, 0.1, 0.3),
      });
      for (let t = d; t <= end; t++) promoByDay[t] = promotions.length - 1;
    }
    const carriedTotal = carried.reduce((a, b) => a + b, 0);
    const promoLift = promotions.map((p) => {
      const share = (carried[p.category] ?? 0) / carriedTotal;
      return 1 - share + share * promoBoost(p.discount);
    });
    const growth = normal(rng, 0.15, 0.2);
    // Drawn only when asked for, so cooperatives without staggered openings stay as they were.
    const openDay =
      o.openingSpread > 0 ? randomBelow(rng, Math.floor(o.openingSpread * days.length) + 1) : 0;
    const weekly = Array.from({ length: 7 }, () => logNormal(rng, 0, 0.05));
    const intensity = days.map((day) => {
      let mix = 0;
      for (let c = 0; c < nc; c++) mix += categoryMix[c]! * categorySeason(catalog, c, day.doy);
      const p = promoByDay[day.index]!;
      const promo = p >= 0 ? promoLift[p]! : 1;
      if (day.index < openDay) return 0;
      return day.demand * weekly[day.dow]! * Math.exp((growth * day.index) / 365) * mix * promo;
    });
    const [lo, hi] = o.fraudRate;
    shops.push({
      storeId: `shop-${pad(s + 1, width)}`,
      index: s,
      sizeFactor,
      customers: Math.max(
        5,
        Math.round((o.customersPerShop * sizeFactor * (days.length - openDay)) / days.length),
      ),
      openDay,
      country: HOME_COUNTRIES[s % HOME_COUNTRIES.length]!,
      categoryMix,
      assortment,
      productIds,
      prices,
      promotions,
      promoByDay,
      dayIntensity: cumulative(intensity),
      fraudRate: uniform(rng, lo, hi),
    });
  }
  return shops;
}
