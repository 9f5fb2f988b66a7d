import type { CooperativeTables } from './layout';

/**
 * The rows of one shop (`store_id`) as a cooperative of its own: what one member node imports
 * when a simulation, the demo or a test gives each shop its own store database.
 *
 * @example
 * await writeCooperative(dir, shopTables(generateCooperative({ shops: 3 }), 'shop-01'));
 */
export function shopTables(t: CooperativeTables, storeId: string): CooperativeTables {
  const pick = <R extends { store_id: string | number }>(rows: R[]) =>
    rows.filter((r) => String(r.store_id) === storeId);
  return {
    products: pick(t.products),
    customers: pick(t.customers),
    orders: pick(t.orders),
    order_items: pick(t.order_items),
    fraud_labels: pick(t.fraud_labels),
    ...(t.daily_sales ? { daily_sales: pick(t.daily_sales) } : {}),
  };
}

/** The shops of a cooperative (`store_id`s of its orders), in order of first appearance. */
export const storeIdsOf = (t: CooperativeTables): string[] => [
  ...new Set(t.orders.map((o) => String(o.store_id))),
];
