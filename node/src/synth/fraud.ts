import type { RandomSource } from '@coopfl/protocol';
import { randomBelow } from '@coopfl/protocol';
import { FRAUD_HOUR_PROFILE } from './calendar';
import type { Day } from './calendar';
import type { DraftCustomer, DraftItem, DraftOrder, ShopItems } from './orders';
import { otherCountry, tasteWeights, timeOnDay, unitPrice } from './orders';
import { cumulative, integer, pick, pickCumulative, pickWeighted, uniform } from './random';
import { HOME_COUNTRIES, RISKY_COUNTRIES } from './world';
import type { Shop } from './world';

/**
 * Fraud injection for one shop. The shop's share of fraudulent orders is its own base rate; the
 * patterns are shared across the cooperative, which is what a federated fraud model can pool:
 * - `card_testing`: bursts of small orders minutes apart, each from a new account;
 * - `country_mismatch`: a new account billing in one country and shipping to a risky one;
 * - `high_first_order`: a new account whose first basket is many expensive items;
 * - `account_takeover`: an existing customer suddenly buying against their taste, shipped abroad.
 */

/**
 * The fraud patterns and their shares of fraud *events* (a card-testing event is a burst of 5–20
 * orders, capped by the shop's remaining fraud budget).
 *
 * @example
 * Object.keys(FRAUD_PATTERNS); // ['card_testing', 'country_mismatch', 'high_first_order', 'account_takeover']
 */
export const FRAUD_PATTERNS = {
  card_testing: 0.25,
  country_mismatch: 0.3,
  high_first_order: 0.2,
  account_takeover: 0.25,
} as const;

/** A fraud pattern name. */
export type FraudPattern = keyof typeof FRAUD_PATTERNS;

const PATTERN_NAMES = Object.keys(FRAUD_PATTERNS) as FraudPattern[];
const PATTERN_WEIGHTS = Object.values(FRAUD_PATTERNS);
const FRAUD_HOUR_CUM = cumulative(FRAUD_HOUR_PROFILE);
const ALL_COUNTRIES = [...HOME_COUNTRIES, ...RISKY_COUNTRIES];

function fraudStatus(rng: RandomSource): string {
  const u = uniform(rng);
  return u < 0.55 ? 'completed' : u < 0.85 ? 'chargeback' : 'cancelled';
}

/** Fraudulent customers and orders for a shop, `round(L·r/(1−r))` orders for L legitimate ones. */
export function fraudOrders(
  rng: RandomSource,
  shop: Shop,
  items: ShopItems,
  days: Day[],
  legit: { customers: DraftCustomer[]; orders: number },
  seq: { customer: number; order: number },
): { customers: DraftCustomer[]; orders: DraftOrder[]; patterns: Record<FraudPattern, number> } {
  const target = Math.round((legit.orders * shop.fraudRate) / (1 - shop.fraudRate));
  const byPrice = shop.assortment
    .map((_, slot) => slot)
    .sort((a, b) => shop.prices[a]! - shop.prices[b]! || a - b);
  const cheap = byPrice.slice(0, Math.max(1, Math.ceil(byPrice.length * 0.3)));
  const dear = byPrice.slice(Math.floor(byPrice.length * 0.75));
  const customers: DraftCustomer[] = [];
  const orders: DraftOrder[] = [];
  const patterns: Record<FraudPattern, number> = {
    card_testing: 0,
    country_mismatch: 0,
    high_first_order: 0,
    account_takeover: 0,
  };

  const newCustomer = (ms: number, country: string, day: number): DraftCustomer => {
    const c: DraftCustomer = {
      seq: seq.customer++,
      createdMs: ms - randomBelow(rng, 300) * 1000,
      country,
      taste: null,
      firstOrderDay: day,
      orders: 1,
    };
    customers.push(c);
    return c;
  };
  const basket = (
    pool: number[],
    lines: number,
    qty: [number, number],
    day: number,
  ): DraftItem[] => {
    const out: DraftItem[] = [];
    for (let i = 0; i < lines; i++) {
      const slot = pick(rng, pool);
      const existing = out.find((x) => x.slot === slot);
      if (existing) existing.quantity++;
      else
        out.push({
          slot,
          quantity: integer(rng, qty[0], qty[1]),
          unitPrice: unitPrice(shop, items, slot, day),
        });
    }
    return out;
  };
  const push = (
    ms: number,
    day: number,
    customer: DraftCustomer,
    lines: DraftItem[],
    billing: string,
    shipping: string,
    payment = 'card',
  ) => {
    orders.push({
      seq: seq.order++,
      ms,
      day,
      customer,
      items: lines,
      status: fraudStatus(rng),
      paymentMethod: payment,
      billingCountry: billing,
      shippingCountry: shipping,
      fraud: true,
    });
  };
  const takeoverable = legit.customers.filter((c) => c.taste && c.firstOrderDay < days.length - 15);

  while (orders.length < target) {
    let pattern = PATTERN_NAMES[pickWeighted(rng, PATTERN_WEIGHTS)]!;
    if (pattern === 'account_takeover' && takeoverable.length === 0) pattern = 'high_first_order';
    const d = shop.openDay + randomBelow(rng, days.length - shop.openDay);
    const day = days[d]!;
    const ms = timeOnDay(rng, day, FRAUD_HOUR_CUM);
    switch (pattern) {
      case 'card_testing': {
        const burst = Math.min(target - orders.length, integer(rng, 5, 20));
        let t = ms;
        for (let i = 0; i < burst; i++) {
          const billing = pick(rng, ALL_COUNTRIES);
          const shipping = uniform(rng) < 0.5 ? billing : otherCountry(rng, billing, ALL_COUNTRIES);
          push(t, d, newCustomer(t, billing, d), basket(cheap, 1, [1, 1], d), billing, shipping);
          t += integer(rng, 10, 90) * 1000;
        }
        patterns.card_testing += burst;
        break;
      }
      case 'country_mismatch': {
        const billing = uniform(rng) < 0.5 ? shop.country : pick(rng, HOME_COUNTRIES);
        const shipping = otherCountry(rng, billing, RISKY_COUNTRIES);
        push(
          ms,
          d,
          newCustomer(ms, billing, d),
          basket(dear, integer(rng, 1, 3), [1, 3], d),
          billing,
          shipping,
        );
        patterns.country_mismatch++;
        break;
      }
      case 'high_first_order': {
        const billing = uniform(rng) < 0.7 ? shop.country : pick(rng, ALL_COUNTRIES);
        const shipping = uniform(rng) < 0.8 ? billing : otherCountry(rng, billing, ALL_COUNTRIES);
        const payment = uniform(rng) < 0.85 ? 'card' : 'paypal';
        push(
          ms,
          d,
          newCustomer(ms, billing, d),
          basket(dear, integer(rng, 3, 6), [2, 6], d),
          billing,
          shipping,
          payment,
        );
        patterns.high_first_order++;
        break;
      }
      case 'account_takeover': {
        const victim = pick(rng, takeoverable);
        const dd = integer(rng, victim.firstOrderDay + 14, days.length - 1);
        const when = timeOnDay(rng, days[dd]!, FRAUD_HOUR_CUM);
        // Against the victim's taste: the items they would be least likely to buy, weighted by price.
        const against = tasteWeights(items, victim.taste!, -1).map(
          (w, slot) => w * shop.prices[slot]!,
        );
        const cum = cumulative(against);
        const lines: DraftItem[] = [];
        for (let i = integer(rng, 2, 4); i > 0; i--) {
          const slot = pickCumulative(rng, cum);
          if (!lines.some((x) => x.slot === slot))
            lines.push({
              slot,
              quantity: integer(rng, 1, 3),
              unitPrice: unitPrice(shop, items, slot, dd),
            });
        }
        push(
          when,
          dd,
          victim,
          lines,
          victim.country,
          otherCountry(rng, victim.country, RISKY_COUNTRIES),
        );
        victim.orders++;
        patterns.account_takeover++;
        break;
      }
    }
  }
  return { customers, orders, patterns };
}
