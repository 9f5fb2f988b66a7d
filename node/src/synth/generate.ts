import { seededRandom } from '@coopfl/protocol';
import type { RandomSource } from '@coopfl/protocol';
import { buildCalendar, isoSeconds } from './calendar';
import type { Day } from './calendar';
import { fraudOrders } from './fraud';
import type { CooperativeTables, Row } from './layout';
import { legitimateOrders, shopItems } from './orders';
import type { DraftCustomer, DraftOrder } from './orders';
import { SynthOptions } from './options';
import type { SynthOptionsInput } from './options';
import { buildCatalog, buildShops } from './world';
import type { Catalog, Shop } from './world';

/**
 * An independent seeded stream per purpose: stream 0 builds the world, stream s + 1 fills shop s,
 * so a shop's orders do not depend on how many draws another shop used.
 */
function stream(seed: number, label: number): RandomSource {
  const bytes = new Uint8Array(32);
  const view = new DataView(bytes.buffer);
  view.setFloat64(0, seed, true);
  view.setUint32(8, label, true);
  bytes[12] = 0x53; // 'S'ynth: keeps these streams apart from seededRandom(seed)
  return seededRandom(bytes);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function money(x: number): string {
  return x.toFixed(2);
}

/** Called after each shop with (done, total). */
export type SynthProgress = (done: number, total: number) => void;

function emitShop(
  shop: Shop,
  catalog: Catalog,
  days: Day[],
  customers: DraftCustomer[],
  orders: DraftOrder[],
  tables: CooperativeTables,
): void {
  const store = shop.storeId;
  shop.assortment.forEach((k, slot) => {
    tables.products.push({
      store_id: store,
      product_id: shop.productIds[slot]!,
      catalog_key: catalog.keys[k]!,
      category: catalog.categoryNames[catalog.category[k]!]!,
      price: money(shop.prices[slot]!),
    });
  });
  customers.sort((a, b) => a.createdMs - b.createdMs || a.seq - b.seq);
  const cw = Math.max(6, String(customers.length).length);
  const customerId = new Map<DraftCustomer, string>();
  customers.forEach((c, i) => {
    const id = `C${pad(i + 1, cw)}`;
    customerId.set(c, id);
    tables.customers.push({
      store_id: store,
      customer_id: id,
      created_at: isoSeconds(c.createdMs),
      country: c.country,
    });
  });
  orders.sort((a, b) => a.ms - b.ms || a.seq - b.seq);
  const ow = Math.max(7, String(orders.length).length);
  orders.forEach((o, i) => {
    const id = `O${pad(i + 1, ow)}`;
    let total = 0;
    for (const it of o.items) {
      total += it.quantity * it.unitPrice;
      tables.order_items.push({
        store_id: store,
        order_id: id,
        product_id: shop.productIds[it.slot]!,
        quantity: it.quantity,
        unit_price: money(it.unitPrice),
      });
    }
    tables.orders.push({
      store_id: store,
      order_id: id,
      customer_id: customerId.get(o.customer)!,
      created_at: isoSeconds(o.ms),
      status: o.status,
      payment_method: o.paymentMethod,
      billing_country: o.billingCountry,
      shipping_country: o.shippingCountry,
      total: money(total),
    });
    tables.fraud_labels.push({ store_id: store, order_id: id, is_fraud: o.fraud ? 1 : 0 });
  });
  if (tables.daily_sales) dailySales(shop, catalog, days, orders, tables.daily_sales);
}

/**
 * Appends dense daily units and revenue per catalog key the shop carries (cancelled orders
 * excluded) to `rows`, one push per row: spreading ~10^5 rows into push() overflows the stack.
 */
function dailySales(
  shop: Shop,
  catalog: Catalog,
  days: Day[],
  orders: DraftOrder[],
  rows: Row<'daily_sales'>[],
): void {
  const size = shop.assortment.length;
  const units = new Float64Array(days.length * size);
  const revenue = new Float64Array(days.length * size);
  for (const o of orders) {
    if (o.status === 'cancelled') continue;
    for (const it of o.items) {
      units[o.day * size + it.slot]! += it.quantity;
      revenue[o.day * size + it.slot]! += it.quantity * it.unitPrice;
    }
  }
  for (const day of days) {
    const promo = shop.promoByDay[day.index]!;
    const promoCat = promo >= 0 ? shop.promotions[promo]!.category : -1;
    for (let slot = 0; slot < size; slot++) {
      const k = shop.assortment[slot]!;
      rows.push({
        store_id: shop.storeId,
        date: day.date,
        catalog_key: catalog.keys[k]!,
        units: units[day.index * size + slot]!,
        revenue: money(revenue[day.index * size + slot]!),
        open: 1,
        promo: catalog.category[k] === promoCat ? 1 : 0,
        holiday: day.holiday ? 1 : 0,
      });
    }
  }
}

/**
 * Generates a whole synthetic cooperative in memory, in the canonical CSV layout (DESIGN.md §3).
 * The same options (including `seed`) give identical tables. Call `await cryptoReady()` from
 * `@coopfl/protocol` first (the seeded stream is ChaCha20 from libsodium).
 *
 * @example
 * await cryptoReady();
 * const tables = generateCooperative({ shops: 5, seed: 42, days: 365 });
 * await writeCooperative('./data/coop', tables);
 */
export function generateCooperative(
  options: SynthOptionsInput = {},
  onProgress?: SynthProgress,
): CooperativeTables {
  const o = SynthOptions.parse(options);
  const world = stream(o.seed, 0);
  const days = buildCalendar(o.startDate, o.days);
  const catalog = buildCatalog(world, o);
  const shops = buildShops(world, o, catalog, days);
  const tables: CooperativeTables = {
    products: [],
    customers: [],
    orders: [],
    order_items: [],
    fraud_labels: [],
    ...(o.dailySales ? { daily_sales: [] } : {}),
  };
  for (const shop of shops) {
    const rng = stream(o.seed, shop.index + 1);
    const seq = { customer: 0, order: 0 };
    const legit = legitimateOrders(rng, catalog, shop, days, o, seq);
    const fraud = fraudOrders(
      rng,
      shop,
      shopItems(catalog, shop),
      days,
      { customers: legit.customers, orders: legit.orders.length },
      seq,
    );
    emitShop(
      shop,
      catalog,
      days,
      [...legit.customers, ...fraud.customers],
      [...legit.orders, ...fraud.orders],
      tables,
    );
    onProgress?.(shop.index + 1, shops.length);
  }
  return tables;
}
