import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { CANONICAL_FILE_NAMES } from '@coopfl/node/import';
import type { CooperativeTables } from '@coopfl/node/synth';
import { generateCooperative, shopTables, writeCooperative } from '@coopfl/node/synth';
import { UsageError } from '../usage';
import type { ExperimentConfig } from './config';

/** One shop of the simulated cooperative: its canonical CSV files are written to `dir` on demand. */
export interface ShopData {
  readonly storeId: string;
  /** Orders in the shop's data (its size, for sorting in reports). */
  readonly orders: number;
  /** Writes the shop's rows as canonical CSV files into `dir` (for the node's import). */
  write(dir: string): Promise<void>;
}

/**
 * The cooperative's shops, largest first (by orders): a seeded synthetic cooperative of
 * `cfg.stores` shops, or the `cfg.stores` largest shops of a canonical CSV directory.
 *
 * @example
 * const shops = await loadShops(parseExperimentConfig({ stores: 3 }));
 */
export async function loadShops(cfg: ExperimentConfig): Promise<ShopData[]> {
  const data = cfg.data;
  switch (data.source) {
    case 'synthetic':
      return syntheticShops(cfg, data);
    case 'canonical':
      return canonicalShops(data.dir, cfg.stores);
  }
}

function syntheticShops(
  cfg: ExperimentConfig,
  d: Extract<ExperimentConfig['data'], { source: 'synthetic' }>,
): ShopData[] {
  const tables = generateCooperative({
    shops: cfg.stores,
    seed: cfg.seed,
    days: d.days,
    customersPerShop: d.customersPerShop,
    catalogSize: d.catalogSize,
    categories: d.categories,
    sizeSkew: d.sizeSkew,
    categoryConcentration: d.categoryConcentration,
    openingSpread: d.openingSpread,
    fraudRate: d.fraudRate,
    dailySales: d.dailySales,
  });
  const orders = new Map<string, number>();
  for (const o of tables.orders) {
    const s = String(o.store_id);
    orders.set(s, (orders.get(s) ?? 0) + 1);
  }
  const byStore = splitByStore(tables);
  return bySize(orders).map(([storeId, n]) => ({
    storeId,
    orders: n,
    write: (dir) =>
      writeCooperative(dir, byStore.get(storeId) ?? shopTables(tables, storeId)).then(
        () => undefined,
      ),
  }));
}

/**
 * Every shop's tables (`shopTables` of each store, rows in the same order) in one pass over the
 * rows: filtering the whole cooperative once per shop took seconds at 100 shops.
 */
function splitByStore(t: CooperativeTables): Map<string, CooperativeTables> {
  const out = new Map<string, CooperativeTables>();
  const shop = (id: string) => {
    let s = out.get(id);
    if (!s) {
      s = {
        products: [],
        customers: [],
        orders: [],
        order_items: [],
        fraud_labels: [],
        ...(t.daily_sales ? { daily_sales: [] } : {}),
      };
      out.set(id, s);
    }
    return s;
  };
  for (const r of t.products) shop(String(r.store_id)).products.push(r);
  for (const r of t.customers) shop(String(r.store_id)).customers.push(r);
  for (const r of t.orders) shop(String(r.store_id)).orders.push(r);
  for (const r of t.order_items) shop(String(r.store_id)).order_items.push(r);
  for (const r of t.fraud_labels) shop(String(r.store_id)).fraud_labels.push(r);
  for (const r of t.daily_sales ?? []) shop(String(r.store_id)).daily_sales!.push(r);
  return out;
}

const bySize = (m: Map<string, number>) =>
  [...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

/** RFC 4180 field quoting. */
const field = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);

/**
 * Splits a canonical directory by `store_id`, keeping each file's own columns (optional columns
 * and files stay absent where they were absent). Shops are ranked by orders (or by daily-sales rows
 * for data sets without orders); the `stores` largest are kept.
 */
async function canonicalShops(dir: string, stores: number): Promise<ShopData[]> {
  const present = new Set(await readdir(dir).catch(() => [] as string[]));
  if (!present.has('orders.csv') && !present.has('daily_sales.csv')) {
    throw new UsageError(`--data canonical:${dir}: no orders.csv or daily_sales.csv there`);
  }
  const files = new Map<string, { header: string[]; byStore: Map<string, string[][]> }>();
  for (const file of CANONICAL_FILE_NAMES) {
    if (!present.has(file)) continue;
    const name = file.replace(/\.csv$/, '');
    const rows: string[][] = parse(await readFile(join(dir, file)), {
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
    });
    const header = rows[0] ?? [];
    const col = header.indexOf('store_id');
    if (col < 0)
      throw new UsageError(`--data canonical:${dir}: ${name}.csv has no store_id column`);
    const byStore = new Map<string, string[][]>();
    for (const row of rows.slice(1)) {
      const s = row[col] ?? '';
      let list = byStore.get(s);
      if (!list) byStore.set(s, (list = []));
      list.push(row);
    }
    files.set(name, { header, byStore });
  }
  const sizeFile = files.get('orders') ?? files.get('daily_sales')!;
  const sizes = new Map([...sizeFile.byStore].map(([s, rows]) => [s, rows.length]));
  const ranked = bySize(sizes);
  if (ranked.length < stores) {
    throw new UsageError(`--stores: ${dir} holds ${ranked.length} shops, fewer than ${stores}`);
  }
  return ranked.slice(0, stores).map(([storeId, n]) => ({
    storeId,
    orders: n,
    write: async (out) => {
      await mkdir(out, { recursive: true });
      for (const [name, f] of files) {
        const rows = f.byStore.get(storeId) ?? [];
        const lines = [f.header, ...rows].map((r) => r.map(field).join(','));
        await writeFile(join(out, `${name}.csv`), `${lines.join('\n')}\n`);
      }
    },
  }));
}
