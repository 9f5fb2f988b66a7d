import { presentTables } from './csv';
import type { CooperativeTables } from './layout';

/** One shop in a cooperative summary. */
export interface ShopSummary {
  store_id: string;
  customers: number;
  products: number;
  orders: number;
  order_items: number;
  fraud_rate: number;
}

/** Row counts per file and per-shop sizes of a cooperative: what the CLI prints. */
export interface CooperativeSummary {
  rows: Record<string, number>;
  shops: ShopSummary[];
}

/**
 * Summarises generated tables: rows per file and, per shop, its size and fraud rate.
 *
 * @example
 * summarizeCooperative(generateCooperative({ shops: 3 })).shops[0];
 * // { store_id: 'shop-01', customers: 812, products: 79, orders: 2433, order_items: 4010, fraud_rate: 0.0123 }
 */
export function summarizeCooperative(tables: CooperativeTables): CooperativeSummary {
  const rows: Record<string, number> = {};
  for (const name of presentTables(tables)) rows[`${name}.csv`] = tables[name]?.length ?? 0;
  const shops = new Map<string, ShopSummary & { frauds: number }>();
  const shop = (id: string | number) => {
    const key = String(id);
    let s = shops.get(key);
    if (!s) {
      s = {
        store_id: key,
        customers: 0,
        products: 0,
        orders: 0,
        order_items: 0,
        fraud_rate: 0,
        frauds: 0,
      };
      shops.set(key, s);
    }
    return s;
  };
  for (const r of tables.products) shop(r.store_id).products++;
  for (const r of tables.customers) shop(r.store_id).customers++;
  for (const r of tables.orders) shop(r.store_id).orders++;
  for (const r of tables.order_items) shop(r.store_id).order_items++;
  for (const r of tables.fraud_labels) if (r.is_fraud === 1) shop(r.store_id).frauds++;
  return {
    rows,
    shops: [...shops.values()].map(({ frauds, ...s }) => ({
      ...s,
      fraud_rate: s.orders ? Math.round((frauds / s.orders) * 1e4) / 1e4 : 0,
    })),
  };
}
