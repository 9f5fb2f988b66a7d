import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { csvRecords } from './command';
import { convertOnlineRetail } from './online-retail';

const HEADER = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country';
const LINES = [
  '536365,85123A,"WHITE HANGING HEART, T-LIGHT",6,2010-12-01 08:26,2.55,17850,United Kingdom',
  '536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26,3.39,17850,United Kingdom',
  '536365,71053,WHITE METAL LANTERN,2,2010-12-01 08:26,3.00,17850,United Kingdom', // merged
  'C536379,71053,WHITE METAL LANTERN,-1,2010-12-01 09:41,3.39,17850,United Kingdom', // cancellation
  '536370,POST,POSTAGE,3,2010-12-01 08:45,18.00,12583,France', // not a product
  '536370,22728,ALARM CLOCK BAKELIKE PINK,24,2010-12-01 08:45,3.75,12583,France',
  '536371,22728,ALARM CLOCK BAKELIKE PINK,2,2010-12-02 10:00,3.75,,United Kingdom', // guest
  '536372,22728,ALARM CLOCK BAKELIKE PINK,two,2010-12-02 10:00,3.75,12000,France', // malformed
  '536373,22728,ALARM CLOCK BAKELIKE PINK,1,2010-13-02 10:00,3.75,12001,France', // bad date
  '536374,22727,ALARM CLOCK BAKELIKE RED,1,2010-12-03 11:00,3.75,12002,Iceland',
];
const dir = await mkdtemp(join(tmpdir(), 'coopfl-retail-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('UCI Online Retail conversion', () => {
  it('maps countries to shops, keeps products only, merges repeated lines, reports bad lines', async () => {
    const file = join(dir, 'retail.csv.gz');
    await writeFile(file, gzipSync(`${HEADER}\n${LINES.join('\n')}\n`));
    const { tables, report } = await convertOnlineRetail(csvRecords(file), {
      ukShops: 3,
      minCustomers: 2, // France has 1 valid customer (12583), Iceland 1: both pooled
    });
    expect(report.linesRead).toBe(10);
    expect(report.skipped).toEqual({
      cancellation: 1,
      'not a product (postage, fee, adjustment)': 1,
    });
    // Line numbers count the header: the 9th data line is file line 10.
    expect(report.errors.first).toEqual([
      'line 9: Quantity: not a number',
      'line 10: InvoiceDate: no such date',
    ]);
    const uk = tables.orders.filter((o) => String(o.store_id).startsWith('shop-uk-'));
    expect(uk.map((o) => o.order_id).sort()).toEqual(['536365', '536371']);
    expect(tables.orders.find((o) => o.order_id === '536371')!.customer_id).toBe('guest-536371');
    const pooled = tables.orders.filter((o) => o.store_id === 'shop-other');
    expect(pooled.map((o) => o.order_id).sort()).toEqual(['536370', '536374']);
    const lantern = tables.order_items.find(
      (i) => i.order_id === '536365' && i.product_id === '71053',
    )!;
    expect(lantern.quantity).toBe(8);
    expect(lantern.unit_price).toBe(Math.round(((6 * 3.39 + 2 * 3) / 8) * 100) / 100);
    const first = tables.orders.find((o) => o.order_id === '536365')!;
    expect(first.total).toBe(Math.round((6 * 2.55 + 6 * 3.39 + 2 * 3) * 100) / 100);
    expect(first.created_at).toBe('2010-12-01T08:26:00Z');
    expect(tables.products.every((p) => p.catalog_key === p.product_id)).toBe(true);
    expect(tables.fraud_labels).toEqual([]);
  });

  it('splits the UK by customer reproducibly', async () => {
    const many = Array.from(
      { length: 200 },
      (_, i) => `6${i},22728,CLOCK,1,2011-01-01 10:00,3.75,${13000 + i},United Kingdom`,
    );
    const records = () =>
      many.map((l, i) => ({
        line: i + 2,
        fields: Object.fromEntries(HEADER.split(',').map((h, j) => [h, l.split(',')[j]])),
      }));
    const a = await convertOnlineRetail(records(), { ukShops: 4 });
    const b = await convertOnlineRetail(records(), { ukShops: 4 });
    expect(a.tables).toEqual(b.tables);
    const sizes = a.report.shops.map((s) => s.customers);
    expect(sizes).toHaveLength(4);
    expect(Math.min(...sizes)).toBeGreaterThan(25); // a hash split, not everyone in one shop
  });
});
