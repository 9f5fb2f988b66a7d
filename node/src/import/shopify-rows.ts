import { z } from 'zod';
import { RISK_LEVELS } from '../store/schema';
import {
  nonNegativeDecimal,
  optional,
  positiveInteger,
  requiredText,
  timestampField,
} from './fields';

/**
 * Columns of Shopify's standard orders export ("Export orders" → CSV for Excel/Numbers), as
 * documented in the Shopify Help Center: one row per line item; the order-level columns are
 * filled on an order's first row and blank (or repeated) on its other rows. Only the columns
 * below are read; names, addresses, phone numbers, notes and the rest are never parsed or stored.
 */

/** Order-level columns, read from an order's first row. */
export const shopifyOrderSchema = z.object({
  Name: requiredText(),
  Id: optional(requiredText()),
  Email: optional(requiredText()),
  'Financial Status': optional(requiredText()),
  'Created at': timestampField(),
  'Cancelled at': optional(timestampField()),
  Currency: optional(
    requiredText().pipe(z.string().regex(/^[A-Za-z]{3}$/, 'not an ISO 4217 currency code')),
  ),
  Total: optional(nonNegativeDecimal()),
  'Payment Method': optional(requiredText()),
  'Billing Country': optional(requiredText()),
  'Shipping Country': optional(requiredText()),
  /** A weak signal only (see `orders.risk_level`); an unknown value is dropped, not an error. */
  'Risk Level': z.preprocess((v) => {
    const level = typeof v === 'string' ? v.trim().toLowerCase() : undefined;
    return (RISK_LEVELS as readonly unknown[]).includes(level) ? level : undefined;
  }, z.enum(RISK_LEVELS).optional()),
});
export type ShopifyOrderRow = z.output<typeof shopifyOrderSchema>;

/** Line-item columns, read from every row. */
export const shopifyItemSchema = z.object({
  'Lineitem quantity': positiveInteger(),
  'Lineitem name': optional(requiredText()),
  'Lineitem price': optional(nonNegativeDecimal()),
  'Lineitem sku': optional(requiredText()),
});
export type ShopifyItemRow = z.output<typeof shopifyItemSchema>;

/** Header columns without which the file cannot be an orders export. */
export const SHOPIFY_REQUIRED_COLUMNS = ['Name', 'Created at', 'Lineitem quantity'] as const;

/**
 * Canonical `orders.status` from Shopify's `Financial Status` (and `Cancelled at`): a cancelled
 * order is `cancelled` whatever was paid; `voided` (authorisation released, nothing captured) is
 * `cancelled` too; `refunded` stays `refunded`; `authorized` is `pending`; the other values
 * (`pending`, `paid`, `partially_paid`, `partially_refunded`) are kept as they are.
 */
export function shopifyStatus(financial: string | undefined, cancelled: boolean): string | null {
  if (cancelled) return 'cancelled';
  if (financial === undefined) return null;
  const v = financial.trim().toLowerCase().replace(/\s+/g, '_');
  if (v === 'voided') return 'cancelled';
  if (v === 'authorized') return 'pending';
  return v;
}
