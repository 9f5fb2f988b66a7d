import { sql } from 'drizzle-orm';
import { beforeEach, expect, it } from 'vitest';
import { isCoopNodeError } from '../errors';
import type { StoreDatabase } from './open';
import { orders } from './schema';
import { checkStoreSource, DEFAULT_STORE_VIEWS, StoreSource } from './source';
import { describeStores, rejectionOf } from './testing';

/** Runs `;`-separated DDL one statement at a time (prepared statements take one command). */
async function run(db: StoreDatabase, script: string): Promise<void> {
  for (const stmt of script.split(';').map((x) => x.trim())) {
    if (stmt !== '') await db.execute(sql.raw(stmt));
  }
}

describeStores('checkStoreSource', (h) => {
  beforeEach(async () => {
    await h.reset();
    await h.db.execute(sql`drop schema if exists merchant cascade`);
  });

  it('accepts the canonical tables and reports which optional columns exist', async () => {
    const found = await checkStoreSource(h.db);
    expect(found.orders).toEqual({
      relation: 'shop.orders',
      optional: [
        'status',
        'payment_method',
        'billing_country',
        'shipping_country',
        'total',
        'risk_level',
      ],
    });
    expect(found.dailySales?.relation).toBe('shop.daily_sales');
  });

  it("reads a shop's own tables through views, with optional relations left out", async () => {
    await run(
      h.db,
      `create schema merchant;
      create table merchant.bestellung (nr text, kunde text, datum timestamptz, laden text);
      insert into merchant.bestellung values ('A1', 'k1', '2024-01-01T00:00:00Z', 's1'),
        ('A2', 'k2', '2024-01-02T00:00:00Z', 's1');
      create view merchant.orders as
        select laden as store_id, nr as order_id, kunde as customer_id, datum as created_at
        from merchant.bestellung;`,
    );
    const source = await StoreSource.open(h.db, {
      orders: 'merchant.orders',
      fraudLabels: null,
      dailySales: null,
    });
    expect(source.found.orders).toEqual({ relation: 'merchant.orders', optional: [] });
    expect(source.has('orders', 'total')).toBe(false);
    expect(source.has('orders', 'created_at')).toBe(true);
    expect(source.has('fraudLabels')).toBe(false);
    expect(await source.count('orders')).toBe(2);
    expect(await source.count('fraudLabels')).toBe(0);
    const page = await source.read('orders', { limit: 1, offset: 1 });
    expect(page).toHaveLength(1);
    expect(page[0]).toMatchObject({ store_id: 's1', order_id: 'A2', customer_id: 'k2' });
  });

  it('names a missing relation', async () => {
    const err = await rejectionOf(
      checkStoreSource(h.db, { ...DEFAULT_STORE_VIEWS, customers: 'merchant.kunden' }),
    );
    expect(isCoopNodeError(err, 'StoreSchemaMismatch')).toBe(true);
    expect(err.message).toContain('"merchant.kunden" (customers) does not exist');
  });

  it('names a missing required column', async () => {
    await run(
      h.db,
      `create schema merchant;
      create view merchant.items as
        select store_id, order_id, product_id from shop.order_items;`,
    );
    const err = await rejectionOf(checkStoreSource(h.db, { orderItems: 'merchant.items' }));
    expect(isCoopNodeError(err, 'StoreSchemaMismatch')).toBe(true);
    expect(err.message).toContain('"merchant.items" (orderItems) lacks required column "quantity"');
  });

  it('rejects malformed view names before touching the database', async () => {
    const err = await rejectionOf(checkStoreSource(h.db, { orders: 'shop.orders; drop table x' }));
    expect(isCoopNodeError(err, 'InvalidConfig')).toBe(true);
    const none = await rejectionOf(checkStoreSource(h.db, { orders: null as unknown as string }));
    expect(isCoopNodeError(none, 'InvalidConfig')).toBe(true);
  });

  it('reads in read-only transactions, so it cannot write to the shop', async () => {
    const source = await StoreSource.open(h.db);
    const tx = (
      source as unknown as {
        readOnly: (fn: (tx: typeof h.db) => Promise<unknown>) => Promise<unknown>;
      }
    ).readOnly;
    const err = await rejectionOf(
      tx.call(source, (t) =>
        t.insert(orders).values({
          storeId: 's',
          orderId: 'o',
          customerId: 'c',
          createdAt: new Date(),
        }),
      ),
    );
    expect(String((err as { cause?: { message?: string } }).cause?.message ?? err.message)).toMatch(
      /read-only transaction/,
    );
  });
});
