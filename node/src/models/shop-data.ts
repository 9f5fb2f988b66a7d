import { CoopNodeError } from '../errors';
import type { StoreRelation, StoreSource } from '../store/source';

/** Rows per read: pages keep memory flat and each query short on big shops. */
export const PAGE_SIZE = 10_000;

/** A store row value as a finite number (PostgreSQL numerics arrive as strings), else undefined. */
export function num(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** A non-empty string value, else undefined. */
export function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return undefined;
}

/** A boolean value (drivers may give booleans, 't'/'f' or 0/1), else undefined. */
export function bool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 't' || v === 'true' || v === 1 || v === '1') return true;
  if (v === 'f' || v === 'false' || v === 0 || v === '0') return false;
  return undefined;
}

const PG_TIME =
  /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Epoch milliseconds of a timestamp as drivers return it (a Date, or PostgreSQL's text form
 * `2024-01-01 21:37:12+00`, or ISO 8601); dates without a zone are taken as UTC.
 */
export function epochMs(v: unknown): number | undefined {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : v.getTime();
  if (typeof v !== 'string') return undefined;
  const m = PG_TIME.exec(v.trim());
  if (!m) return undefined;
  let zone = m[3] ?? 'Z';
  if (zone !== 'Z')
    zone = zone.length === 3 ? `${zone}:00` : zone.replace(/^([+-]\d{2})(\d{2})$/, '$1:$2');
  const t = Date.parse(`${m[1]!}T${m[2] ?? '00:00:00'}${zone}`);
  return Number.isNaN(t) ? undefined : t;
}

/** Milliseconds per day (days are UTC days throughout the models). */
export const DAY_MS = 86_400_000;

/** Days since 1970-01-01 (UTC) of an epoch-millisecond time. */
export function dayOf(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

/** `YYYY-MM-DD` of a UTC day number. */
export function isoDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/**
 * Reads every row of `relation` for one shop, page by page. A store database may hold several
 * shops (a cooperative imported for a demo or the simulator): with `storeId` only that shop's rows
 * are kept; without it the database must hold one shop, else the call fails rather than mixing
 * shops into one model.
 */
export async function readShopRows<T>(
  source: StoreSource,
  relation: StoreRelation,
  storeId: string | undefined,
  map: (row: Record<string, unknown>) => T | undefined,
): Promise<T[]> {
  const out: T[] = [];
  let seen: string | undefined;
  for (let offset = 0; ; offset += PAGE_SIZE) {
    const page = await source.read(relation, { limit: PAGE_SIZE, offset });
    for (const row of page) {
      const store = str(row.store_id) ?? '';
      if (storeId !== undefined) {
        if (store !== storeId) continue;
      } else if (seen === undefined) {
        seen = store;
      } else if (store !== seen) {
        throw new CoopNodeError(
          'InvalidArgument',
          `relation ${relation} holds rows of several shops: pass storeId to choose one`,
        );
      }
      const v = map(row);
      if (v !== undefined) out.push(v);
    }
    if (page.length < PAGE_SIZE) return out;
  }
}

/** A product of the shop. */
export interface ShopProduct {
  readonly productId: string;
  readonly catalogKey: string;
  readonly price?: number;
}

/** An order of the shop (times in epoch ms). */
export interface ShopOrder {
  readonly orderId: string;
  readonly customerId: string;
  readonly createdAt: number;
  readonly status?: string;
  readonly paymentMethod?: string;
  readonly billingCountry?: string;
  readonly shippingCountry?: string;
  readonly total?: number;
  readonly riskLevel?: string;
}

/** An order line. */
export interface ShopItem {
  readonly orderId: string;
  readonly productId: string;
  readonly quantity: number;
  readonly unitPrice?: number;
}

/** A customer (creation time in epoch ms). */
export interface ShopCustomer {
  readonly customerId: string;
  readonly createdAt?: number;
  readonly country?: string;
}

function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** The shop's products (rows without a product id or catalog key are left out). */
export function readProducts(source: StoreSource, storeId?: string): Promise<ShopProduct[]> {
  return readShopRows(source, 'products', storeId, (r) => {
    const productId = str(r.product_id);
    const catalogKey = str(r.catalog_key);
    if (productId === undefined || catalogKey === undefined) return undefined;
    return defined({ productId, catalogKey, price: num(r.price) });
  });
}

/** The shop's orders with parsed times; status and risk level lower-cased. */
export function readOrders(source: StoreSource, storeId?: string): Promise<ShopOrder[]> {
  return readShopRows(source, 'orders', storeId, (r) => {
    const orderId = str(r.order_id);
    const customerId = str(r.customer_id);
    const createdAt = epochMs(r.created_at);
    if (orderId === undefined || customerId === undefined || createdAt === undefined) {
      return undefined;
    }
    return defined({
      orderId,
      customerId,
      createdAt,
      status: str(r.status)?.toLowerCase(),
      paymentMethod: str(r.payment_method),
      billingCountry: str(r.billing_country),
      shippingCountry: str(r.shipping_country),
      total: num(r.total),
      riskLevel: str(r.risk_level)?.toLowerCase(),
    });
  });
}

/** The shop's order lines. */
export function readItems(source: StoreSource, storeId?: string): Promise<ShopItem[]> {
  return readShopRows(source, 'orderItems', storeId, (r) => {
    const orderId = str(r.order_id);
    const productId = str(r.product_id);
    const quantity = num(r.quantity);
    if (orderId === undefined || productId === undefined || quantity === undefined) {
      return undefined;
    }
    return defined({ orderId, productId, quantity, unitPrice: num(r.unit_price) });
  });
}

/** The shop's customers. */
export function readCustomers(source: StoreSource, storeId?: string): Promise<ShopCustomer[]> {
  return readShopRows(source, 'customers', storeId, (r) => {
    const customerId = str(r.customer_id);
    if (customerId === undefined) return undefined;
    return defined({ customerId, createdAt: epochMs(r.created_at), country: str(r.country) });
  });
}

/** Orders that did not happen (cancelled, voided): they sold nothing. */
export function isCancelled(o: ShopOrder): boolean {
  return o.status === 'cancelled' || o.status === 'canceled' || o.status === 'voided';
}

/** Items grouped by order id. */
export function itemsByOrder(items: readonly ShopItem[]): Map<string, ShopItem[]> {
  const m = new Map<string, ShopItem[]>();
  for (const it of items) {
    const list = m.get(it.orderId);
    if (list) list.push(it);
    else m.set(it.orderId, [it]);
  }
  return m;
}
