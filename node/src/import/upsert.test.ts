import { asc, sql } from 'drizzle-orm';
import { beforeEach, expect, it } from 'vitest';
import { customers, identityKeys, products, stores } from '../store/schema';
import { resultRows } from '../store/result';
import { describeStores } from '../store/testing';
import { upsertRows } from './upsert';

describeStores('upsertRows', (h) => {
  beforeEach(() => h.reset());

  const xmins = async () =>
    resultRows<{ product_id: string; xmin: string }>(
      await h.db.execute(
        sql`select product_id, xmin::text as xmin from shop.products order by product_id`,
      ),
    ).map((r) => [r.product_id, r.xmin]);

  it('writes every value as given: quotes, backslashes, newlines, Unicode, decimals, nulls', async () => {
    const rows = [
      { storeId: 's', productId: 'p"1\\', catalogKey: 'K,1\n"x"', category: null, price: 0.1 },
      { storeId: 's', productId: 'p2', catalogKey: 'Käse 🧀', category: 'a\tb', price: 1234.5678 },
      { storeId: 's', productId: 'p3', catalogKey: 'K3' },
    ];
    expect(await upsertRows(h.db, products, rows)).toBe(3);
    expect(await h.db.select().from(products).orderBy(asc(products.productId))).toEqual([
      { ...rows[0], category: null },
      rows[1],
      { ...rows[2], category: null, price: null },
    ]);
    const at = new Date('2024-02-29T23:59:59.123Z');
    await upsertRows(h.db, customers, [{ storeId: 's', customerId: 'c', createdAt: at }]);
    expect(await h.db.select().from(customers)).toEqual([
      { storeId: 's', customerId: 'c', createdAt: at, country: null },
    ]);
  });

  it('updates changed rows only and keeps the last of duplicate keys', async () => {
    const base = [
      { storeId: 's', productId: 'a', catalogKey: 'A', price: 1 },
      { storeId: 's', productId: 'b', catalogKey: 'B', price: 2 },
    ];
    await upsertRows(h.db, products, base);
    const before = await xmins();
    await upsertRows(h.db, products, [
      base[0]!,
      { ...base[1]!, price: 3 },
      { ...base[1]!, price: 4 },
    ]);
    const after = await xmins();
    expect(after[0]).toEqual(before[0]); // unchanged: not rewritten
    expect(after[1]).not.toEqual(before[1]);
    const prices = await h.db.select({ price: products.price }).from(products);
    expect(prices.map((p) => p.price).sort()).toEqual([1, 4]);

    await upsertRows(h.db, stores, [{ storeId: 's' }, { storeId: 't', currency: 'EUR' }]);
    await upsertRows(h.db, stores, [{ storeId: 's', currency: 'CHF' }]);
    expect(await h.db.select().from(stores).orderBy(asc(stores.storeId))).toEqual([
      { storeId: 's', currency: 'CHF' },
      { storeId: 't', currency: 'EUR' },
    ]);
  });

  it('takes binary values and defaulted columns through the multi-row insert, same result', async () => {
    const secretKey = Uint8Array.from([0, 1, 2, 255]);
    await upsertRows(h.db, identityKeys, [{ purpose: 'signing', secretKey }]);
    const [row] = await h.db.select().from(identityKeys);
    expect(row).toMatchObject({ purpose: 'signing', publicKey: null, secretKey });
    expect(row!.createdAt).toBeInstanceOf(Date);
  });
});
