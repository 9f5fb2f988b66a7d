import type { RandomSource } from '@coopfl/protocol';
import { randomBelow } from '@coopfl/protocol';
import { HOUR_PROFILE } from './calendar';
import type { Day } from './calendar';
import { bernoulli, cumulative, normal, pick, pickCumulative, poisson, uniform } from './random';
import { categorySeason, HOME_COUNTRIES, promoBoost } from './world';
import type { Catalog, Shop } from './world';

/**
 * Legitimate customers and their orders for one shop. Customers have a latent taste vector over
 * the shared item vectors and repeat behaviour (repurchase, co-purchase successors of their last
 * item), so next-purchase recommendation is learnable; order days follow the shop's seasonal
 * intensity, so daily units per catalog key are learnable.
 */

/** A customer before ids are assigned. */
export interface DraftCustomer {
  readonly seq: number;
  createdMs: number;
  readonly country: string;
  /** Latent taste (absent for fraudsters' throwaway accounts). */
  readonly taste: Float64Array | null;
  /** Day index and time of the first order; compromised-account fraud happens after it. */
  firstOrderDay: number;
  orders: number;
}

/** One line of a basket: the shop's assortment slot. */
export interface DraftItem {
  readonly slot: number;
  quantity: number;
  readonly unitPrice: number;
}

/** An order before ids are assigned. */
export interface DraftOrder {
  readonly seq: number;
  readonly ms: number;
  readonly day: number;
  readonly customer: DraftCustomer;
  readonly items: DraftItem[];
  readonly status: string;
  readonly paymentMethod: string;
  readonly billingCountry: string;
  readonly shippingCountry: string;
  readonly fraud: boolean;
}

/** Strength of taste in item choice (higher = more predictable customers). */
const TASTE_STRENGTH = 1.6;
/** Probability that a repeat order starts with the last item again (consumables). */
const REPURCHASE = 0.15;
/** Probability that a repeat order starts with a co-purchase successor of the last item. */
const FOLLOW_LAST = 0.35;
/** Probability that a further basket item is a successor of the previous one. */
const FOLLOW_IN_BASKET = 0.4;
/** Share of legitimate orders shipped to another country (gifts, holiday homes). */
const GIFT_SHIPPING = 0.03;

const HOUR_CUM = cumulative(HOUR_PROFILE);

/** A time of day on `day` drawn from an hour profile (ms since the epoch, whole seconds). */
export function timeOnDay(rng: RandomSource, day: Day, hourCum: Float64Array = HOUR_CUM): number {
  const hour = pickCumulative(rng, hourCum);
  return day.ms + hour * 3_600_000 + randomBelow(rng, 3600) * 1000;
}

/** Per-assortment-slot state shared by all customers of a shop. */
export interface ShopItems {
  /** Assortment slot of each catalog key, or -1. */
  readonly slotOfKey: Int32Array;
  /** Category of each slot. */
  readonly category: Int32Array;
  /** Successor slots of each slot (those the shop carries). */
  readonly successors: number[][];
  /** Popularity^0.7 of each slot. */
  readonly popularity: Float64Array;
  /** Latent item vectors of the slots, slot-major. */
  readonly vectors: Float64Array;
}

/** Precomputes the per-slot lookups of a shop. */
export function shopItems(catalog: Catalog, shop: Shop): ShopItems {
  const slotOfKey = new Int32Array(catalog.keys.length).fill(-1);
  shop.assortment.forEach((k, slot) => (slotOfKey[k] = slot));
  const category = Int32Array.from(shop.assortment, (k) => catalog.category[k]!);
  const successors = shop.assortment.map((k) =>
    (catalog.successors[k] ?? []).map((s) => slotOfKey[s]!).filter((s) => s >= 0),
  );
  const d = catalog.dims;
  const popularity = Float64Array.from(shop.assortment, (k) => catalog.popularity[k]! ** 0.7);
  const vectors = new Float64Array(shop.assortment.length * d);
  shop.assortment.forEach((k, slot) =>
    vectors.set(catalog.vectors.subarray(k * d, (k + 1) * d), slot * d),
  );
  return { slotOfKey, category, successors, popularity, vectors };
}

/** Unit price of a slot on a day (discounted while its category is on promotion). */
export function unitPrice(shop: Shop, items: ShopItems, slot: number, day: number): number {
  const p = shop.prices[slot]!;
  const promo = shop.promoByDay[day]!;
  if (promo < 0 || shop.promotions[promo]!.category !== items.category[slot]) return p;
  return Math.round(p * (1 - shop.promotions[promo]!.discount) * 100) / 100;
}

/** Taste × popularity weights of a customer over the shop's assortment (`sign` −1: against it). */
export function tasteWeights(items: ShopItems, taste: Float64Array, sign = 1): Float64Array {
  const d = taste.length;
  const n = items.category.length;
  const scale = (sign * TASTE_STRENGTH) / Math.sqrt(d);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let dot = 0;
    for (let j = 0; j < d; j++) dot += taste[j]! * items.vectors[i * d + j]!;
    out[i] = items.popularity[i]! * Math.exp(scale * dot);
  }
  return out;
}

/** Options of {@link legitimateOrders} taken from the generator options. */
export interface LegitOptions {
  readonly repeatCustomerShare: number;
  readonly ordersPerRepeatCustomer: number;
}

/** Generates a shop's legitimate customers and orders (unsorted; sequence numbers from `seq`). */
export function legitimateOrders(
  rng: RandomSource,
  catalog: Catalog,
  shop: Shop,
  days: Day[],
  o: LegitOptions,
  seq: { customer: number; order: number },
): { customers: DraftCustomer[]; orders: DraftOrder[] } {
  const items = shopItems(catalog, shop);
  const size = shop.assortment.length;
  const customers: DraftCustomer[] = [];
  const orders: DraftOrder[] = [];
  const dayWeights = new Float64Array(size);
  const dayCum = new Float64Array(size);
  const nc = catalog.categoryNames.length;
  const season = new Float64Array(nc);
  for (let c = 0; c < shop.customers; c++) {
    const country = bernoulli(rng, 0.9) ? shop.country : pick(rng, HOME_COUNTRIES);
    const taste = new Float64Array(catalog.dims);
    for (let j = 0; j < taste.length; j++) taste[j] = normal(rng);
    const weights = tasteWeights(items, taste);
    const repeat = bernoulli(rng, o.repeatCustomerShare);
    const count = repeat ? 2 + poisson(rng, o.ordersPerRepeatCustomer - 2) : 1;
    const orderDays = Array.from({ length: count }, () => pickCumulative(rng, shop.dayIntensity));
    orderDays.sort((a, b) => a - b);
    const customer: DraftCustomer = {
      seq: seq.customer++,
      createdMs: 0,
      country,
      taste,
      firstOrderDay: orderDays[0]!,
      orders: count,
    };
    customers.push(customer);
    let last = -1;
    for (const d of orderDays) {
      const day = days[d]!;
      const promo = shop.promoByDay[d]!;
      const promoCat = promo >= 0 ? shop.promotions[promo]!.category : -1;
      const boost = promo >= 0 ? promoBoost(shop.promotions[promo]!.discount) : 1;
      for (let k = 0; k < nc; k++) season[k] = categorySeason(catalog, k, day.doy);
      for (let i = 0; i < size; i++) {
        const cat = items.category[i]!;
        dayWeights[i] = weights[i]! * season[cat]! * (cat === promoCat ? boost : 1);
      }
      cumulative(dayWeights, dayCum);
      const basket: DraftItem[] = [];
      const lines = Math.min(size, 1 + Math.min(poisson(rng, 0.7), 5));
      let prev = -1;
      for (let line = 0; line < lines; line++) {
        let slot = -1;
        const r = uniform(rng);
        if (line === 0 && last >= 0) {
          if (r < REPURCHASE) slot = last;
          else if (r < REPURCHASE + FOLLOW_LAST) slot = pickOrNone(rng, items.successors[last]!);
        } else if (line > 0 && r < FOLLOW_IN_BASKET) {
          slot = pickOrNone(rng, items.successors[prev]!);
        }
        if (slot < 0) slot = pickCumulative(rng, dayCum);
        const existing = basket.find((b) => b.slot === slot);
        if (existing) existing.quantity++;
        else
          basket.push({
            slot,
            quantity: 1 + poisson(rng, 0.25),
            unitPrice: unitPrice(shop, items, slot, d),
          });
        prev = slot;
      }
      last = prev;
      const ms = timeOnDay(rng, day);
      if (customer.createdMs === 0)
        customer.createdMs = Math.max(days[0]!.ms, ms - randomBelow(rng, 1800) * 1000);
      const gift = bernoulli(rng, GIFT_SHIPPING);
      const u = uniform(rng);
      orders.push({
        seq: seq.order++,
        ms,
        day: d,
        customer,
        items: basket,
        status: u < 0.95 ? 'completed' : u < 0.99 ? 'refunded' : 'cancelled',
        paymentMethod: pick(rng, PAYMENT_METHODS),
        billingCountry: country,
        shippingCountry: gift ? otherCountry(rng, country, HOME_COUNTRIES) : country,
        fraud: false,
      });
    }
  }
  return { customers, orders };
}

const PAYMENT_METHODS = [
  'card',
  'card',
  'card',
  'card',
  'card',
  'card',
  'card',
  'paypal',
  'paypal',
  'invoice',
];

function pickOrNone(rng: RandomSource, slots: number[]): number {
  return slots.length === 0 ? -1 : slots[randomBelow(rng, slots.length)]!;
}

/** A country from `pool` different from `not` (when the pool allows). */
export function otherCountry(rng: RandomSource, not: string, pool: readonly string[]): string {
  for (let t = 0; t < 8; t++) {
    const c = pick(rng, pool);
    if (c !== not) return c;
  }
  return pool.find((c) => c !== not) ?? not;
}
