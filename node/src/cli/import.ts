import type { Command } from 'commander';
import { isCoopNodeError } from '../errors';
import { importCanonical, importShopify } from '../import';
import type { ImportProgress, ImportReport } from '../import';
import { DEFAULT_STORE_DB } from '../runtime/member';
import { loadNodeConfig, resolveNodeDir, storeTarget } from '../runtime/config';
import { loadOrCreateHashKey } from '../runtime/state';
import type { StoreDatabase } from '../store/open';
import { openStore } from '../store/open';
import type { GlobalFlags } from './output';
import { out } from './output';

/**
 * The node's database for an import: the joined node's `storeDb`, else `--store-db`, else the
 * embedded database in the data directory (a shop may load its data before joining).
 */
async function withStore<T>(
  cmd: Command,
  fn: (db: StoreDatabase, flags: GlobalFlags) => Promise<T>,
): Promise<T> {
  const flags = cmd.optsWithGlobals<GlobalFlags & { storeDb?: string }>();
  const dir = resolveNodeDir(flags.dir);
  let storeDb = flags.storeDb;
  if (storeDb === undefined) {
    try {
      storeDb = (await loadNodeConfig(dir)).storeDb;
    } catch (err) {
      if (!isCoopNodeError(err, 'NotInitialized')) throw err;
      storeDb = DEFAULT_STORE_DB;
    }
  }
  const store = await openStore(storeTarget(dir, storeDb));
  try {
    return await fn(store.db, flags);
  } finally {
    await store.close();
  }
}

/** Progress on stderr (rows read per file), rewritten in place on a terminal. */
function progress(): { on(p: ImportProgress): void; done(): void } {
  const tty = process.stderr.isTTY;
  let last = 0;
  return {
    on(p) {
      const now = Date.now();
      if (!tty && now - last < 2000) return;
      last = now;
      const line = `importing ${p.file}: ${p.fileRowsRead} rows (${p.rowsRead} in all)`;
      process.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
    },
    done() {
      if (tty) process.stderr.write('\r\x1b[2K');
    },
  };
}

function summary(r: ImportReport): string {
  const files = r.files
    .filter((f) => f.present)
    .map((f) => `  ${f.file}: ${f.imported} imported, ${f.rejected} rejected`);
  const rejected = r.rejected.slice(0, 20).map((l) => `  rejected ${l}`);
  const more = r.rejected.length > 20 ? [`  … ${r.rejected.length - 20} more rejected rows`] : [];
  return [
    `imported ${r.rowsImported} of ${r.rowsRead} rows (${r.rowsRejected} rejected)`,
    ...files,
    ...rejected,
    ...more,
    ...r.warnings.slice(0, 20).map((w) => `  warning ${w}`),
  ].join('\n');
}

/** `coopfl-node import canonical DIR` and `import shopify FILE`. */
export function importCommand(program: Command): void {
  const imp = program
    .command('import')
    .description("load shop data into the node's canonical tables")
    .option('--store-db <url|path>', 'database to import into (default: the node config)');
  imp
    .command('canonical')
    .description('a directory of canonical CSV files (products.csv, orders.csv, …)')
    .argument('<dir>')
    .option('--hash-customers', "store customer ids as keyed hashes under the node's secret")
    .action(async (dir: string, o: { hashCustomers?: boolean }, cmd: Command) => {
      await withStore(cmd, async (db, flags) => {
        const bar = progress();
        const hashKey = o.hashCustomers ? await loadOrCreateHashKey(db) : undefined;
        const r = await importCanonical(db, dir, {
          onProgress: (p) => bar.on(p),
          ...(hashKey ? { hashKey } : {}),
        });
        bar.done();
        out(flags, summary(r), r);
      });
    });
  imp
    .command('shopify')
    .description("Shopify's orders export (CSV); customers become keyed hashes of their e-mail")
    .argument('<file>')
    .requiredOption('--store-id <id>', 'the store_id these rows get')
    .action(async (file: string, o: { storeId: string }, cmd: Command) => {
      await withStore(cmd, async (db, flags) => {
        const bar = progress();
        const r = await importShopify(db, file, {
          storeId: o.storeId,
          hashKey: await loadOrCreateHashKey(db),
          onProgress: (p) => bar.on(p),
        });
        bar.done();
        out(flags, summary(r), r);
      });
    });
}
