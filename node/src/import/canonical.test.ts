import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asc, count, eq, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { isCoopNodeError } from '../errors';
import type { StoreDatabase } from '../store/open';
import { resultRows } from '../store/result';
import {
  customers,
  dailySales,
  fraudLabels,
  importRuns,
  orderItems,
  orders,
  products,
  stores,
} from '../store/schema';
import { describeStores } from '../store/testing';
import { importCanonical } from './canonical';
import { normalizeEmail, pseudonym } from './hash';
import type { ImportProgress } from './report';

const FIXTURE = fileURLToPath(new URL('./fixtures/canonical', import.meta.url));
const hashKey = new Uint8Array(32).fill(7);

const EXPECTED_REJECTED = [
  'products.csv:5: catalog_key: is missing or blank',
  'products.csv:6: price: not a non-negative decimal number',
  'customers.csv:5: created_at: not an ISO 8601 date or date-time',
  'orders.csv:5: customer_id: is missing or blank',
  'orders.csv:6: created_at: not a valid calendar date and time',
  'orders.csv:7: total: not a non-negative decimal number',
  'order_items.csv:4: quantity: not a positive integer',
  'order_items.csv:5: quantity: not a positive integer',
  'fraud_labels.csv:4: is_fraud: not a boolean (true/false, 1/0, yes/no)',
  'daily_sales.csv:3: date: not a valid calendar date',
];

const TABLES: Record<string, PgTable> = {
  stores,
  products,
  customers,
  orders,
  orderItems,
  fraudLabels,
  dailySales,
};

async function counts(db: StoreDatabase): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [name, t] of Object.entries(TABLES)) {
    const [row] = await db.select({ n: count() }).from(t);
    out[name] = row?.n ?? 0;
  }
  return out;
}

/** Every row of every shop table, with its physical version (xmin), in a stable order. */
async function snapshot(db: StoreDatabase): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const name of [
    'stores',
    'products',
    'customers',
    'orders',
    'order_items',
    'fraud_labels',
    'daily_sales',
  ]) {
    const res = await db.execute(
      sql.raw(`select xmin::text as xmin, t::text as row from shop.${name} t order by t::text`),
    );
    out.push(name, resultRows(res));
  }
  return out;
}

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'coopfl-canonical-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describeStores('importCanonical', (h) => {
  beforeEach(() => h.reset());

  it('keeps the good rows and reports every bad row as file:line: reason', async () => {
    const report = await importCanonical(h.db, FIXTURE, { hashKey });
    expect(report.rejected).toEqual(EXPECTED_REJECTED);
    expect(report.files).toEqual([
      { file: 'products.csv', present: true, read: 5, imported: 3, rejected: 2 },
      { file: 'customers.csv', present: true, read: 5, imported: 4, rejected: 1 },
      { file: 'orders.csv', present: true, read: 7, imported: 4, rejected: 3 },
      { file: 'order_items.csv', present: true, read: 5, imported: 3, rejected: 2 },
      { file: 'fraud_labels.csv', present: true, read: 3, imported: 2, rejected: 1 },
      { file: 'daily_sales.csv', present: true, read: 3, imported: 2, rejected: 1 },
    ]);
    expect(report.rowsRead).toBe(28);
    expect(report.rowsImported).toBe(18);
    expect(report.rowsRejected).toBe(10);
    expect(await counts(h.db)).toEqual({
      stores: 2,
      products: 3,
      customers: 4,
      orders: 4,
      orderItems: 3,
      fraudLabels: 2,
      dailySales: 2,
    });
    const [run] = await h.db.select().from(importRuns).where(eq(importRuns.id, report.runId));
    expect(run).toMatchObject({
      source: 'canonical',
      status: 'done',
      rowsRead: 28,
      rowsImported: 18,
      rowsRejected: 10,
    });
  });

  it('maps values: quoted newlines, decimals, timestamps, pseudonymised customer ids', async () => {
    await importCanonical(h.db, FIXTURE, { hashKey });
    const p = await h.db
      .select()
      .from(products)
      .orderBy(asc(products.storeId), asc(products.productId));
    expect(p).toEqual([
      { storeId: 's1', productId: 'p1', catalogKey: 'SKU-1', category: 'mugs', price: 12.5 },
      { storeId: 's1', productId: 'p2', catalogKey: 'SKU-2', category: null, price: null },
      { storeId: 's2', productId: 'p1', catalogKey: 'SKU-1', category: 'mugs', price: 11 },
    ]);
    const ann = pseudonym(hashKey, normalizeEmail('ann@example.com'));
    const c = await h.db.select().from(customers).where(eq(customers.customerId, ann));
    expect(c).toEqual([
      {
        storeId: 's1',
        customerId: ann,
        createdAt: new Date('2024-01-05T09:00:00Z'),
        country: 'DE',
      },
    ]);
    const [o3] = await h.db.select().from(orders).where(eq(orders.orderId, 'o3'));
    expect(o3?.customerId).toBe(ann);
    const c2 = await h.db.select().from(customers).where(eq(customers.storeId, 's2'));
    expect(c2[0]?.createdAt).toEqual(new Date('2024-02-01T08:30:00Z'));
    expect(c2[0]?.customerId).toBe(pseudonym(hashKey, 'c1'));
    const d = await h.db.select().from(dailySales).orderBy(asc(dailySales.date));
    expect(d).toEqual([
      {
        storeId: 's1',
        date: '2024-03-01',
        catalogKey: 'SKU-1',
        units: 3,
        revenue: 37.5,
        open: true,
        promo: false,
        holiday: false,
      },
      {
        storeId: 's1',
        date: '2024-03-02',
        catalogKey: 'SKU-2',
        units: 1.5,
        revenue: null,
        open: true,
        promo: null,
        holiday: null,
      },
    ]);
    const labels = await h.db.select().from(fraudLabels).orderBy(asc(fraudLabels.orderId));
    expect(labels.map((l) => [l.orderId, l.isFraud])).toEqual([
      ['o1', false],
      ['o3', true],
    ]);
  });

  it('re-importing the same files changes nothing (counts, content, row versions)', async () => {
    await importCanonical(h.db, FIXTURE, { hashKey });
    const before = await snapshot(h.db);
    const countsBefore = await counts(h.db);
    const again = await importCanonical(h.db, FIXTURE, { hashKey });
    expect(again.rejected).toEqual(EXPECTED_REJECTED);
    expect(await counts(h.db)).toEqual(countsBefore);
    expect(await snapshot(h.db)).toEqual(before);
  });

  it('a corrected file updates the rows it names', async () => {
    const dir = await mkdtemp(join(scratch, 'fix-'));
    await writeFile(
      join(dir, 'products.csv'),
      'store_id,product_id,catalog_key,price\ns1,p1,SKU-1,10\n',
    );
    await importCanonical(h.db, dir);
    await writeFile(
      join(dir, 'products.csv'),
      'store_id,product_id,catalog_key,price\ns1,p1,SKU-1,9.99\n',
    );
    await importCanonical(h.db, dir);
    expect(await h.db.select().from(products)).toEqual([
      { storeId: 's1', productId: 'p1', catalogKey: 'SKU-1', category: null, price: 9.99 },
    ]);
  });

  it('reports progress as rows read so far', async () => {
    const seen: ImportProgress[] = [];
    await importCanonical(h.db, FIXTURE, {
      hashKey,
      batchSize: 2,
      onProgress: (p) => seen.push(p),
    });
    expect(seen.length).toBeGreaterThan(6);
    const totals = seen.map((p) => p.rowsRead);
    expect(totals).toEqual([...totals].sort((a, b) => a - b));
    expect(seen.at(-1)).toEqual({ file: 'daily_sales.csv', fileRowsRead: 3, rowsRead: 28 });
  });

  it('without a hashKey rejects e-mail-like customer ids instead of storing them', async () => {
    const report = await importCanonical(h.db, FIXTURE);
    expect(report.rejected).toContain(
      'customers.csv:4: customer_id: looks like an e-mail address; import with a hashKey',
    );
    expect(report.rejected).toContain(
      'orders.csv:4: customer_id: looks like an e-mail address; import with a hashKey',
    );
    const res = await h.db.execute(
      sql`select count(*)::int as n from shop.customers where customer_id like '%@%'`,
    );
    expect(resultRows<{ n: number }>(res)[0]?.n).toBe(0);
  });

  it('rejects a file whose header lacks a required column, naming it, and reads the others', async () => {
    const dir = await mkdtemp(join(scratch, 'hdr-'));
    await cp(FIXTURE, dir, { recursive: true });
    await writeFile(join(dir, 'order_items.csv'), 'store_id,order_id,qty\ns1,o1,2\n');
    const report = await importCanonical(h.db, dir, { hashKey });
    expect(report.rejected).toContain(
      'order_items.csv:1: header lacks required columns "product_id", "quantity"; file not read',
    );
    expect((await counts(h.db)).orderItems).toBe(0);
    expect((await counts(h.db)).orders).toBe(4);
  });

  it('ignores unknown columns and absent optional files; reports a CSV syntax error', async () => {
    const dir = await mkdtemp(join(scratch, 'syn-'));
    await writeFile(
      join(dir, 'orders.csv'),
      'order_id,extra,store_id,customer_id,created_at\no1,x,s1,c1,2024-01-01\no2,y,s1,c2,2024-01-02\no3,"unterminated,s1,c3,2024-01-03\n',
    );
    const report = await importCanonical(h.db, dir);
    expect(report.files.filter((f) => f.present).map((f) => f.file)).toEqual(['orders.csv']);
    expect(report.rejected).toHaveLength(1);
    expect(report.rejected[0]).toMatch(
      /^orders\.csv:\d+: CSV syntax error \(\w+\); the rest of the file was not read$/,
    );
    expect((await counts(h.db)).orders).toBe(2);
  });

  it('fails clearly for a missing directory or one without canonical files', async () => {
    const err1: unknown = await importCanonical(h.db, join(scratch, 'nope')).catch(
      (e: unknown) => e,
    );
    expect(isCoopNodeError(err1, 'ImportFailed')).toBe(true);
    const empty = await mkdtemp(join(scratch, 'empty-'));
    const err2: unknown = await importCanonical(h.db, empty).catch((e: unknown) => e);
    expect(isCoopNodeError(err2, 'ImportFailed')).toBe(true);
    expect((err2 as Error).message).toContain('products.csv');
  });
});
