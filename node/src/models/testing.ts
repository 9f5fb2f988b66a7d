import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importCanonical } from '../import';
import { MEMORY_STORE, openStore, type StoreDatabase } from '../store/open';
import { StoreSource } from '../store/source';
import {
  generateCooperative,
  writeCooperative,
  type CooperativeTables,
  type SynthOptionsInput,
} from '../synth';

/** A synthetic cooperative imported into an in-memory PGlite store (tests only). */
export interface SynthStore {
  readonly source: StoreSource;
  /** The database, to open other views onto it (e.g. without daily sales). */
  readonly db: StoreDatabase;
  /** Store ids in the database, largest shop (by orders) first. */
  readonly storeIds: readonly string[];
  close(): Promise<void>;
}

/**
 * Generates a small seeded cooperative, writes it as canonical CSV and imports it into a fresh
 * in-memory store: the models' tests read data exactly as a node does, through `StoreSource`.
 */
export async function synthStore(
  opts: SynthOptionsInput,
  { keepShops = Infinity }: { keepShops?: number } = {},
): Promise<SynthStore> {
  const generated = generateCooperative(opts);
  const orders = new Map<string, number>();
  for (const o of generated.orders) {
    const s = String(o.store_id);
    orders.set(s, (orders.get(s) ?? 0) + 1);
  }
  const storeIds = [...orders.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([s]) => s)
    .slice(0, keepShops);
  // Importing only the shops a test reads keeps the (CPU-bound) import short.
  const keep = new Set(storeIds);
  const tables = Object.fromEntries(
    Object.entries(generated).map(([name, rows]) => [
      name,
      (rows as { store_id: string | number }[]).filter((r) => keep.has(String(r.store_id))),
    ]),
  ) as unknown as CooperativeTables;
  const dir = await mkdtemp(join(tmpdir(), 'coopfl-models-'));
  const opened = await openStore(MEMORY_STORE);
  try {
    await writeCooperative(dir, tables);
    await importCanonical(opened.db, dir, { batchSize: 5000 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const source = await StoreSource.open(opened.db);
  return { source, db: opened.db, storeIds, close: () => opened.close() };
}
