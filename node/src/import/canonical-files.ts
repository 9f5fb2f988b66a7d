import type { PgTable } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import { customers, dailySales, fraudLabels, orderItems, orders, products } from '../store/schema';
import {
  booleanField,
  dateField,
  nonNegativeDecimal,
  nonNegativeNumber,
  optional,
  positiveInteger,
  requiredText,
  timestampField,
} from './fields';
import { normalizeEmail, pseudonym } from './hash';

/**
 * The canonical CSV files (DESIGN §3 "Canonical CSV layout"): for each, the zod row schema (the
 * source of truth for which columns are required) and the mapping to its `shop` table.
 */
export interface CanonicalFile {
  readonly file: string;
  readonly table: PgTable;
  /** Column parsers; unknown columns are stripped, as DESIGN §3 says to ignore them. */
  readonly schema: z.ZodObject<z.ZodRawShape>;
  /** Maps a validated row to the table's insert shape, or returns a rejection reason. */
  readonly toRow: (row: unknown, ctx: RowContext) => Record<string, unknown> | string;
}

export interface RowContext {
  readonly hashKey: Uint8Array | undefined;
}

/**
 * Customer ids: with a `hashKey`, every id is replaced by its keyed pseudonym (e-mail-like ids
 * normalised first, so they match what the Shopify importer derives). Without one, an id that
 * looks like an e-mail address is rejected rather than stored in clear.
 */
function customerId(raw: string, ctx: RowContext): string | { reason: string } {
  const isEmail = raw.includes('@');
  if (ctx.hashKey !== undefined) {
    return pseudonym(ctx.hashKey, isEmail ? normalizeEmail(raw) : raw);
  }
  if (isEmail) {
    return { reason: 'customer_id: looks like an e-mail address; import with a hashKey' };
  }
  return raw;
}

const text = requiredText;
const optText = () => optional(requiredText());

function file<T extends PgTable, S extends z.ZodRawShape>(
  name: string,
  table: T,
  shape: S,
  toRow: (row: z.output<z.ZodObject<S>>, ctx: RowContext) => T['$inferInsert'] | string,
): CanonicalFile {
  return {
    file: name,
    table,
    schema: z.object(shape),
    toRow: toRow as CanonicalFile['toRow'],
  };
}

/** In import order (parents first, for readers that watch a running import). */
export const CANONICAL_FILES: readonly CanonicalFile[] = [
  file(
    'products.csv',
    products,
    {
      store_id: text(),
      product_id: text(),
      catalog_key: text(),
      category: optText(),
      price: optional(nonNegativeDecimal()),
    },
    (r) => ({
      storeId: r.store_id,
      productId: r.product_id,
      catalogKey: r.catalog_key,
      category: r.category ?? null,
      price: r.price ?? null,
    }),
  ),
  file(
    'customers.csv',
    customers,
    {
      store_id: text(),
      customer_id: text(),
      created_at: optional(timestampField()),
      country: optText(),
    },
    (r, ctx) => {
      const id = customerId(r.customer_id, ctx);
      if (typeof id !== 'string') return id.reason;
      return {
        storeId: r.store_id,
        customerId: id,
        createdAt: r.created_at ?? null,
        country: r.country ?? null,
      };
    },
  ),
  file(
    'orders.csv',
    orders,
    {
      store_id: text(),
      order_id: text(),
      customer_id: text(),
      created_at: timestampField(),
      status: optText(),
      payment_method: optText(),
      billing_country: optText(),
      shipping_country: optText(),
      total: optional(nonNegativeDecimal()),
    },
    (r, ctx) => {
      const id = customerId(r.customer_id, ctx);
      if (typeof id !== 'string') return id.reason;
      return {
        storeId: r.store_id,
        orderId: r.order_id,
        customerId: id,
        createdAt: r.created_at,
        status: r.status ?? null,
        paymentMethod: r.payment_method ?? null,
        billingCountry: r.billing_country ?? null,
        shippingCountry: r.shipping_country ?? null,
        total: r.total ?? null,
      };
    },
  ),
  file(
    'order_items.csv',
    orderItems,
    {
      store_id: text(),
      order_id: text(),
      product_id: text(),
      quantity: positiveInteger(),
      unit_price: optional(nonNegativeDecimal()),
    },
    (r) => ({
      storeId: r.store_id,
      orderId: r.order_id,
      productId: r.product_id,
      quantity: r.quantity,
      unitPrice: r.unit_price ?? null,
    }),
  ),
  file(
    'fraud_labels.csv',
    fraudLabels,
    { store_id: text(), order_id: text(), is_fraud: booleanField() },
    (r) => ({
      storeId: r.store_id,
      orderId: r.order_id,
      isFraud: r.is_fraud,
    }),
  ),
  file(
    'daily_sales.csv',
    dailySales,
    {
      store_id: text(),
      date: dateField(),
      catalog_key: text(),
      units: nonNegativeNumber(),
      revenue: optional(nonNegativeDecimal()),
      open: optional(booleanField()),
      promo: optional(booleanField()),
      holiday: optional(booleanField()),
    },
    (r) => ({
      storeId: r.store_id,
      date: r.date,
      catalogKey: r.catalog_key,
      units: r.units,
      revenue: r.revenue ?? null,
      open: r.open ?? null,
      promo: r.promo ?? null,
      holiday: r.holiday ?? null,
    }),
  ),
];

/** The canonical layout's file names (`products.csv`, …), in import order. */
export const CANONICAL_FILE_NAMES: readonly string[] = CANONICAL_FILES.map((f) => f.file);
