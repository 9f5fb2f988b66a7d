import { createHash } from 'node:crypto';
import type { CooperativeTables, Row } from '@coopfl/node/synth';

/**
 * UCI "Online Retail" (dataset #352) → the canonical layout (DESIGN §3), as a cooperative: each
 * buyer country is a shop, the United Kingdom (91 % of lines) is split into `ukShops` shops by
 * customer, and countries with fewer than `minCustomers` customers are pooled into one shop
 * (`shop-other`), so no shop is too small to evaluate. `StockCode` is the shared catalog key.
 *
 * Kept: purchase lines with a product stock code (digits first: postage, fees and manual
 * adjustments such as `POST`, `M`, `BANK CHARGES` are not products), `Quantity > 0` and
 * `UnitPrice > 0`. Cancellations (`InvoiceNo` starting with `C`) are dropped. Guest invoices (no
 * `CustomerID`) are kept as one-order customers `guest-<InvoiceNo>`: they are real demand. Repeated
 * lines of one product in one invoice are merged (quantities summed, price quantity-weighted).
 * Timestamps are the retailer's local time, written as UTC. The data has no fraud labels.
 */
export interface OnlineRetailOptions {
  /** Shops the United Kingdom is split into, by a hash of the customer id. Default 4. */
  readonly ukShops?: number;
  /** Countries with fewer customers are pooled into `shop-other`. Default 10. */
  readonly minCustomers?: number;
}

/** One CSV record as read (strings), with its line number for error reports. */
export interface RetailRecord {
  readonly line: number;
  readonly fields: Readonly<Record<string, string | undefined>>;
}

export interface ConversionReport {
  readonly linesRead: number;
  readonly linesKept: number;
  /** Lines skipped on purpose, by reason (cancellation, non-product code, …). */
  readonly skipped: Readonly<Record<string, number>>;
  /** Malformed lines: the first 20 with line and reason, and the total. */
  readonly errors: { readonly total: number; readonly first: readonly string[] };
  readonly shops: readonly {
    store_id: string;
    countries: string[];
    customers: number;
    orders: number;
  }[];
}

interface Line {
  invoice: string;
  stock: string;
  quantity: number;
  price: number;
  at: string;
  customer: string;
  country: string;
}

const REQUIRED = ['InvoiceNo', 'StockCode', 'Quantity', 'InvoiceDate', 'UnitPrice', 'Country'];
const DATE = /^(\d{4})-(\d{2})-(\d{2}) (\d{1,2}):(\d{2})(?::(\d{2}))?$/;

/** Validates one record; returns the line or a reason it is skipped / malformed. */
function readLine(r: RetailRecord): Line | { skip: string } | { error: string } {
  const f = r.fields;
  const missing = REQUIRED.find((c) => f[c] === undefined || f[c] === '');
  if (missing) return { error: `line ${r.line}: ${missing}: missing` };
  const invoice = f.InvoiceNo!.trim();
  if (invoice.startsWith('C')) return { skip: 'cancellation' };
  const stock = f.StockCode!.trim().toUpperCase();
  if (!/^\d/.test(stock)) return { skip: 'not a product (postage, fee, adjustment)' };
  const quantity = Number(f.Quantity);
  if (!Number.isFinite(quantity)) return { error: `line ${r.line}: Quantity: not a number` };
  if (quantity <= 0) return { skip: 'quantity ≤ 0' };
  const price = Number(f.UnitPrice);
  if (!Number.isFinite(price)) return { error: `line ${r.line}: UnitPrice: not a number` };
  if (price <= 0) return { skip: 'unit price ≤ 0' };
  const m = DATE.exec(f.InvoiceDate!.trim());
  if (!m) return { error: `line ${r.line}: InvoiceDate: not YYYY-MM-DD HH:MM` };
  const at = `${m[1]}-${m[2]}-${m[3]}T${m[4]!.padStart(2, '0')}:${m[5]}:${m[6] ?? '00'}Z`;
  if (Number.isNaN(Date.parse(at))) return { error: `line ${r.line}: InvoiceDate: no such date` };
  const customerId = (f.CustomerID ?? '').trim().replace(/\.0$/, '');
  return {
    invoice,
    stock,
    quantity,
    price,
    at,
    customer: customerId === '' ? `guest-${invoice}` : customerId,
    country: f.Country!.trim(),
  };
}

/** A stable shop index in [0, n) from a customer id (SHA-256, so the split is reproducible). */
function bucket(id: string, n: number): number {
  return createHash('sha256').update(id).digest().readUInt32LE(0) % n;
}

const slug = (country: string) =>
  country
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

const money = (x: number) => Math.round(x * 100) / 100;

/**
 * Converts the records (any order) into canonical tables and a report. Pure: reading the file and
 * writing the CSVs are the caller's.
 *
 * @example
 * const { tables, report } = await convertOnlineRetail(records(file), { ukShops: 4 });
 * await writeCooperative(dst, tables);
 */
export async function convertOnlineRetail(
  records: AsyncIterable<RetailRecord> | Iterable<RetailRecord>,
  opts: OnlineRetailOptions = {},
  onProgress?: (linesRead: number) => void,
): Promise<{ tables: CooperativeTables; report: ConversionReport }> {
  const ukShops = opts.ukShops ?? 4;
  const minCustomers = opts.minCustomers ?? 10;
  const lines: Line[] = [];
  const skipped: Record<string, number> = {};
  const errors: string[] = [];
  let errorCount = 0;
  let read = 0;
  for await (const r of records) {
    read++;
    if (read % 50_000 === 0) onProgress?.(read);
    const l = readLine(r);
    if ('skip' in l) skipped[l.skip] = (skipped[l.skip] ?? 0) + 1;
    else if ('error' in l) {
      errorCount++;
      if (errors.length < 20) errors.push(l.error);
    } else lines.push(l);
  }
  onProgress?.(read);

  // A customer belongs to the country of their first invoice (a handful appear under two).
  const firstSeen = new Map<string, Line>();
  for (const l of lines) {
    const seen = firstSeen.get(l.customer);
    if (!seen || l.at < seen.at) firstSeen.set(l.customer, l);
  }
  const customersByCountry = new Map<string, number>();
  for (const l of firstSeen.values()) {
    customersByCountry.set(l.country, (customersByCountry.get(l.country) ?? 0) + 1);
  }
  const shopOf = (customer: string): string => {
    const country = firstSeen.get(customer)!.country;
    if (country === 'United Kingdom') return `shop-uk-${bucket(customer, ukShops) + 1}`;
    if ((customersByCountry.get(country) ?? 0) < minCustomers) return 'shop-other';
    return `shop-${slug(country)}`;
  };

  type Item = { quantity: number; value: number };
  const orders = new Map<
    string,
    { store: string; customer: string; at: string; country: string; items: Map<string, Item> }
  >();
  for (const l of lines) {
    const store = shopOf(l.customer);
    const key = `${store}\u0000${l.invoice}`;
    let o = orders.get(key);
    if (!o) {
      o = { store, customer: l.customer, at: l.at, country: l.country, items: new Map() };
      orders.set(key, o);
    }
    const item = o.items.get(l.stock) ?? { quantity: 0, value: 0 };
    item.quantity += l.quantity;
    item.value += l.quantity * l.price;
    o.items.set(l.stock, item);
  }

  const tables: CooperativeTables = {
    products: [],
    customers: [],
    orders: [],
    order_items: [],
    fraud_labels: [],
  };
  // A product's shop price: the quantity-weighted mean price it sold at in that shop.
  const productStats = new Map<string, Item & { store: string; stock: string }>();
  const customers = new Map<string, Row<'customers'>>();
  const shopStats = new Map<
    string,
    { countries: Set<string>; customers: number; orders: number }
  >();
  for (const [key, o] of [...orders.entries()].sort((a, b) =>
    a[1].at === b[1].at ? (a[0] < b[0] ? -1 : 1) : a[1].at < b[1].at ? -1 : 1,
  )) {
    const invoice = key.slice(key.indexOf('\u0000') + 1);
    let total = 0;
    for (const [stock, item] of [...o.items.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
      total += item.value;
      tables.order_items.push({
        store_id: o.store,
        order_id: invoice,
        product_id: stock,
        quantity: item.quantity,
        unit_price: money(item.value / item.quantity),
      });
      const pk = `${o.store}\u0000${stock}`;
      const p = productStats.get(pk) ?? { store: o.store, stock, quantity: 0, value: 0 };
      p.quantity += item.quantity;
      p.value += item.value;
      productStats.set(pk, p);
    }
    tables.orders.push({
      store_id: o.store,
      order_id: invoice,
      customer_id: o.customer,
      created_at: o.at,
      status: 'paid',
      payment_method: '',
      billing_country: o.country,
      shipping_country: o.country,
      total: money(total),
    });
    const ck = `${o.store}\u0000${o.customer}`;
    const stats = shopStats.get(o.store) ?? { countries: new Set(), customers: 0, orders: 0 };
    stats.orders++;
    stats.countries.add(o.country);
    if (!customers.has(ck)) {
      stats.customers++;
      customers.set(ck, {
        store_id: o.store,
        customer_id: o.customer,
        created_at: o.at,
        country: firstSeen.get(o.customer)!.country,
      });
    }
    shopStats.set(o.store, stats);
  }
  tables.customers = [...customers.values()];
  tables.products = [...productStats.values()]
    .sort((a, b) =>
      a.store === b.store ? (a.stock < b.stock ? -1 : 1) : a.store < b.store ? -1 : 1,
    )
    .map((p) => ({
      store_id: p.store,
      product_id: p.stock,
      catalog_key: p.stock,
      category: '',
      price: money(p.value / p.quantity),
    }));
  const shops = [...shopStats.entries()]
    .map(([store_id, s]) => ({
      store_id,
      countries: [...s.countries].sort(),
      customers: s.customers,
      orders: s.orders,
    }))
    .sort((a, b) => b.orders - a.orders);
  return {
    tables,
    report: {
      linesRead: read,
      linesKept: lines.length,
      skipped,
      errors: { total: errorCount, first: errors },
      shops,
    },
  };
}
