/**
 * The canonical CSV layout of DESIGN.md §3, as the generator writes it: file name → column order.
 * The generator fills every optional column; `daily_sales.csv` is written only when asked for.
 *
 * @example
 * CANONICAL_COLUMNS.order_items.join(','); // 'store_id,order_id,product_id,quantity,unit_price'
 */
export const CANONICAL_COLUMNS = {
  products: ['store_id', 'product_id', 'catalog_key', 'category', 'price'],
  customers: ['store_id', 'customer_id', 'created_at', 'country'],
  orders: [
    'store_id',
    'order_id',
    'customer_id',
    'created_at',
    'status',
    'payment_method',
    'billing_country',
    'shipping_country',
    'total',
  ],
  order_items: ['store_id', 'order_id', 'product_id', 'quantity', 'unit_price'],
  fraud_labels: ['store_id', 'order_id', 'is_fraud'],
  daily_sales: ['store_id', 'date', 'catalog_key', 'units', 'revenue', 'open', 'promo', 'holiday'],
} as const;

/** A canonical table name (also its file name without `.csv`). */
export type TableName = keyof typeof CANONICAL_COLUMNS;

/** One row of a canonical table: its columns as keys, values already in CSV form. */
export type Row<T extends TableName> = Record<
  (typeof CANONICAL_COLUMNS)[T][number],
  string | number
>;

/**
 * A generated cooperative, in memory: one row array per canonical file; `daily_sales` only when
 * requested.
 */
export type CooperativeTables = { [T in Exclude<TableName, 'daily_sales'>]: Row<T>[] } & {
  daily_sales?: Row<'daily_sales'>[];
};
