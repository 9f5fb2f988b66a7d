import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cryptoReady } from '@coopfl/protocol';
import { generateCooperative, shopTables, writeCooperative } from '@coopfl/node/synth';
import { UsageError } from '../usage';
import { parseExperimentConfig } from './config';
import { loadShops } from './shops';

let dir: string;
beforeAll(async () => {
  await cryptoReady();
  dir = await mkdtemp(join(tmpdir(), 'coopfl-sim-shops-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the cooperative’s shops', () => {
  it('splits a canonical directory by store_id, largest first, keeping each file’s columns', async () => {
    const src = join(dir, 'coop');
    await writeFileTree(src, {
      'orders.csv':
        'store_id,order_id,customer_id,created_at\nb,1,c1,2024-01-01\na,2,c2,2024-01-02\nb,3,"c,3",2024-01-03\nc,4,c4,2024-01-04\n',
      'products.csv': 'store_id,product_id,catalog_key\na,p1,K1\nb,p1,K1\nb,p2,K2\n',
      'customers.csv': 'store_id,customer_id\na,c2\nb,c1\nb,"c,3"\n',
      'order_items.csv': 'store_id,order_id,product_id,quantity\nb,1,p1,2\na,2,p1,1\nb,3,p2,1\n',
    });
    const shops = await loadShops(
      parseExperimentConfig({ stores: 2, data: { source: 'canonical', dir: src } }),
    );
    expect(shops.map((s) => [s.storeId, s.orders])).toEqual([
      ['b', 2],
      ['a', 1],
    ]);
    const out = join(dir, 'b');
    await shops[0]!.write(out);
    expect((await readdir(out)).sort()).toEqual([
      'customers.csv',
      'order_items.csv',
      'orders.csv',
      'products.csv',
    ]);
    expect(await readFile(join(out, 'orders.csv'), 'utf8')).toBe(
      'store_id,order_id,customer_id,created_at\nb,1,c1,2024-01-01\nb,3,"c,3",2024-01-03\n',
    );
  });

  it('refuses more stores than the directory holds, and a directory without orders', async () => {
    const src = join(dir, 'coop');
    await expect(
      loadShops(parseExperimentConfig({ stores: 5, data: { source: 'canonical', dir: src } })),
    ).rejects.toThrow(UsageError);
    await expect(
      loadShops(parseExperimentConfig({ data: { source: 'canonical', dir: join(dir, 'none') } })),
    ).rejects.toThrow('no orders.csv or daily_sales.csv');
  });

  it('generates a seeded synthetic cooperative, largest shop first', async () => {
    const cfg = parseExperimentConfig({
      stores: 3,
      data: { source: 'synthetic', days: 90, customersPerShop: 30, catalogSize: 20 },
    });
    const a = await loadShops(cfg);
    const b = await loadShops(cfg);
    expect(a.map((s) => [s.storeId, s.orders])).toEqual(b.map((s) => [s.storeId, s.orders]));
    expect(a[0]!.orders).toBeGreaterThanOrEqual(a[2]!.orders);
  });

  it('writes each synthetic shop exactly as the generator’s shopTables + writeCooperative', async () => {
    const d = { days: 90, customersPerShop: 30, catalogSize: 20, dailySales: true };
    const cfg = parseExperimentConfig({ stores: 3, data: { source: 'synthetic', ...d } });
    const shops = await loadShops(cfg);
    const { source: _source, ...knobs } = cfg.data as Extract<
      typeof cfg.data,
      { source: 'synthetic' }
    >;
    const tables = generateCooperative({ shops: 3, seed: cfg.seed, ...knobs });
    for (const shop of shops) {
      const ours = join(dir, `ours-${shop.storeId}`);
      const theirs = join(dir, `theirs-${shop.storeId}`);
      await shop.write(ours);
      await writeCooperative(theirs, shopTables(tables, shop.storeId));
      const files = (await readdir(theirs)).sort();
      expect((await readdir(ours)).sort()).toEqual(files);
      expect(files).toContain('daily_sales.csv');
      for (const f of files) {
        expect(await readFile(join(ours, f), 'utf8')).toBe(await readFile(join(theirs, f), 'utf8'));
      }
    }
  });
});

async function writeFileTree(root: string, files: Record<string, string>): Promise<void> {
  await mkdir(root, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(join(root, name), text);
}
