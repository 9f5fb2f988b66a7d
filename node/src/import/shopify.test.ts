import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asc, count, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { isCoopNodeError } from '../errors';
import type { StoreDatabase } from '../store/open';
import { resultRows } from '../store/result';
import { customers, fraudLabels, orderItems, orders, products, stores } from '../store/schema';
import { describeStores } from '../store/testing';
import { ROWS, toCsv } from './fixtures/shopify/generate';
import { nameCatalogKey, normalizeEmail, pseudonym } from './hash';
import { importShopify } from './shopify';

const FIXTURE = fileURLToPath(new URL('./fixtures/shopify/orders_export.csv', import.meta.url));
const hashKey = new Uint8Array(32).fill(42);
const storeId = 'shop-a';
const F = 'orders_export.csv';

/** Every text-like column of every table in the node's schemas that contains `needle`. */
async function columnsContaining(db: StoreDatabase, needle: string): Promise<string[]> {
  const cols = resultRows<{ s: string; t: string; c: string }>(
    await db.execute(sql`
      select table_schema as s, table_name as t, column_name as c
      from information_schema.columns
      where table_schema in ('shop', 'coopfl')
        and data_type in ('text', 'character varying', 'character', 'jsonb', 'json')`),
  );
  expect(cols.length).toBeGreaterThan(20);
  const hits: string[] = [];
  for (const { s, t, c } of cols) {
    const res = await db.execute(
      sql`select count(*)::int as n from ${sql.identifier(s)}.${sql.identifier(t)} where ${sql.identifier(c)}::text ilike ${`%${needle}%`}`,
    );
    if (Number(resultRows<{ n: number }>(res)[0]?.n) > 0) hits.push(`${s}.${t}.${c}`);
  }
  return hits.sort();
}

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'coopfl-shopify-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

it('the committed fixture is what the generator writes', async () => {
  const { readFile } = await import('node:fs/promises');
  expect(await readFile(FIXTURE, 'utf8')).toBe(toCsv(ROWS));
});

describeStores('importShopify', (h) => {
  beforeEach(() => h.reset());

  it('imports the export: counts, rejected rows, warnings', async () => {
    const report = await importShopify(h.db, FIXTURE, { storeId, hashKey });
    expect(report.files).toEqual([{ file: F, present: true, read: 7, imported: 6, rejected: 1 }]);
    expect(report.rejected).toEqual([`${F}:7: Lineitem quantity: not a positive integer`]);
    expect(report.warnings).toEqual([
      `${F}:5: Lineitem sku: blank; catalog_key derived from a hash of Lineitem name`,
      `${F}:9: Email: blank; the order gets a one-off customer id`,
    ]);
    const n = async (t: PgTable) => (await h.db.select({ n: count() }).from(t))[0]?.n;
    expect(await n(orders)).toBe(4);
    expect(await n(orderItems)).toBe(6);
    expect(await n(products)).toBe(4);
    expect(await n(customers)).toBe(3);
    expect(await n(fraudLabels)).toBe(0);
    expect(await h.db.select().from(stores)).toEqual([{ storeId, currency: 'EUR' }]);
  });

  it('maps orders: ids, hashed customers, statuses, totals, risk level as a feature', async () => {
    await importShopify(h.db, FIXTURE, { storeId, hashKey });
    const ann = pseudonym(hashKey, normalizeEmail('ann.smith@example.com'));
    const bob = pseudonym(hashKey, 'bob@example.org');
    const guest = pseudonym(hashKey, 'shopify-order:5550001004');
    const o = await h.db.select().from(orders).orderBy(asc(orders.orderId));
    expect(o).toEqual([
      {
        storeId,
        orderId: '5550001001',
        customerId: ann,
        createdAt: new Date('2024-03-01T09:15:22Z'),
        status: 'paid',
        paymentMethod: 'Shopify Payments',
        billingCountry: 'DE',
        shippingCountry: 'AT',
        total: 44.9,
        riskLevel: 'low',
      },
      {
        storeId,
        orderId: '5550001002',
        customerId: bob,
        createdAt: new Date('2024-03-02T14:00:00Z'),
        status: 'refunded',
        paymentMethod: 'PayPal Express Checkout',
        billingCountry: 'US',
        shippingCountry: 'US',
        total: 25,
        riskLevel: 'high',
      },
      {
        storeId,
        orderId: '5550001003',
        customerId: ann,
        createdAt: new Date('2024-03-05T17:30:00Z'),
        status: 'cancelled',
        paymentMethod: 'Shopify Payments',
        billingCountry: 'DE',
        shippingCountry: 'AT',
        total: 12.5,
        riskLevel: 'medium',
      },
      {
        storeId,
        orderId: '5550001004',
        customerId: guest,
        createdAt: new Date('2024-03-06T12:00:00Z'),
        status: 'partially_refunded',
        paymentMethod: 'Cash',
        billingCountry: null,
        shippingCountry: null,
        total: 45,
        riskLevel: null,
      },
    ]);
    expect(ann).toMatch(/^[0-9a-f]{64}$/);
    const [sum] = resultRows<{ total: string }>(
      await h.db.execute(sql`select sum(total)::text as total from shop.orders`),
    );
    expect(Number(sum?.total)).toBeCloseTo(127.4, 6);

    const giftWrap = nameCatalogKey('Gift wrap');
    const items = await h.db
      .select()
      .from(orderItems)
      .orderBy(asc(orderItems.orderId), asc(orderItems.productId));
    expect(items.map((i) => [i.orderId, i.productId, i.quantity, i.unitPrice])).toEqual([
      ['5550001001', 'MUG-BLUE', 1, 15],
      ['5550001001', 'MUG-RED', 2, 12.5],
      ['5550001001', giftWrap, 1, 0],
      ['5550001002', 'TEE-S', 1, 25],
      ['5550001003', 'MUG-RED', 1, 12.5],
      ['5550001004', 'MUG-BLUE', 3, 15],
    ]);
    const p = await h.db.select().from(products).orderBy(asc(products.productId));
    expect(p.map((x) => [x.productId, x.catalogKey])).toEqual([
      ['MUG-BLUE', 'MUG-BLUE'],
      ['MUG-RED', 'MUG-RED'],
      ['TEE-S', 'TEE-S'],
      [giftWrap, giftWrap],
    ]);
    const c = await h.db.select().from(customers).orderBy(asc(customers.customerId));
    expect(c.map((x) => x.customerId).sort()).toEqual([ann, bob, guest].sort());
  });

  it('stores no e-mail address, name, phone or note anywhere', async () => {
    await importShopify(h.db, FIXTURE, { storeId, hashKey });
    for (const needle of ['@', 'example', 'Smith', 'Jones', 'Ann', '1234567', 'back door']) {
      expect(await columnsContaining(h.db, needle), needle).toEqual([]);
    }
    // The scan itself works: a value we did store is found.
    expect(await columnsContaining(h.db, 'MUG-RED')).toEqual([
      'shop.order_items.product_id',
      'shop.products.catalog_key',
      'shop.products.product_id',
    ]);
  });

  it('re-importing the export changes nothing', async () => {
    await importShopify(h.db, FIXTURE, { storeId, hashKey });
    const snap = async () => {
      const out: unknown[] = [];
      for (const t of ['stores', 'products', 'customers', 'orders', 'order_items']) {
        out.push(
          resultRows(
            await h.db.execute(
              sql.raw(`select xmin::text as v, t::text as row from shop.${t} t order by t::text`),
            ),
          ),
        );
      }
      return out;
    };
    const before = await snap();
    const again = await importShopify(h.db, FIXTURE, { storeId, hashKey, batchSize: 1 });
    expect(again.rowsImported).toBe(6);
    expect(await snap()).toEqual(before);
  });

  it('rejects an order with a bad order-level field together with its rows; keeps the rest', async () => {
    const rows = ROWS.map((r) => ({ ...r }));
    rows[0] = { ...rows[0], 'Created at': 'March 1st' };
    rows.push({ ...rows[6], Name: '#1003' }); // not consecutive with #1003's first row
    const file = join(scratch, 'bad.csv');
    await writeFile(file, toCsv(rows));
    const seen: number[] = [];
    const report = await importShopify(h.db, file, {
      storeId,
      hashKey,
      onProgress: (p) => seen.push(p.rowsRead),
    });
    expect(report.rejected).toEqual([
      'bad.csv:2: Created at: not an ISO 8601 date or date-time',
      'bad.csv:4: order rejected at line 2',
      'bad.csv:5: order rejected at line 2',
      'bad.csv:7: Lineitem quantity: not a positive integer',
      'bad.csv:10: Name: rows of this order are not consecutive; row skipped',
    ]);
    expect(report.files[0]).toMatchObject({ read: 8, imported: 3, rejected: 5 });
    expect((await h.db.select({ n: count() }).from(orders))[0]?.n).toBe(3);
    expect(seen.at(-1)).toBe(8);
  });

  it('refuses a file that is not an orders export, and bad options', async () => {
    const file = join(scratch, 'products.csv');
    await writeFile(file, 'Handle,Title,Variant SKU\nmug,Mug,MUG-RED\n');
    const err: unknown = await importShopify(h.db, file, { storeId, hashKey }).catch(
      (e: unknown) => e,
    );
    expect(isCoopNodeError(err, 'ImportFailed')).toBe(true);
    expect((err as Error).message).toContain('"Name"');
    const short: unknown = await importShopify(h.db, FIXTURE, {
      storeId,
      hashKey: new Uint8Array(8),
    }).catch((e: unknown) => e);
    expect(isCoopNodeError(short, 'InvalidArgument')).toBe(true);
    expect((short as Error).message).toContain('hashKey');
  });
});
