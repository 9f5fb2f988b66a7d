import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CoopNodeError } from '../errors';
import type { StoreDatabase } from '../store/open';
import { CANONICAL_FILES, type CanonicalFile, type RowContext } from './canonical-files';
import { CsvSyntaxError, openCsv } from './csv';
import { formatIssues, requiredKeys } from './fields';
import { checkHashKey } from './hash';
import {
  recordImportRun,
  type ImportFileReport,
  type ImportProgress,
  type ImportReport,
} from './report';
import { ensureStores } from './stores';
import { upsertRows } from './upsert';

/** Options of {@link importCanonical}. */
export interface ImportCanonicalOptions {
  /** Called after each batch and at the end of each file with the rows read so far. */
  readonly onProgress?: (progress: ImportProgress) => void;
  /**
   * The node's pseudonymisation secret (≥ 32 bytes). When given, customer ids are stored as keyed
   * hashes; without it, customer ids that look like e-mail addresses are rejected.
   */
  readonly hashKey?: Uint8Array;
  /** Rows per upsert transaction (default 500). */
  readonly batchSize?: number;
}

const DEFAULT_BATCH = 500;

/**
 * Imports a directory of canonical CSV files (DESIGN §3) into the `shop` tables. Every file is
 * optional, but at least one must be present. Rows are validated one by one: a bad row is reported
 * as `file:line: column: what is wrong` and skipped, the good rows are upserted in batches, each
 * batch in one transaction. Importing the same files again changes nothing; a corrected file
 * updates the rows it names. Unknown columns are ignored. The run is recorded in
 * `coopfl.import_runs`.
 *
 * @throws CoopNodeError `ImportFailed` when `dir` is unreadable or holds no canonical file;
 *   `InvalidArgument` for a bad option.
 * @example
 * const report = await importCanonical(db, './data/shop-a', {
 *   hashKey,
 *   onProgress: ({ rowsRead }) => bar.update(rowsRead),
 * });
 * for (const line of report.rejected) console.warn(line); // "orders.csv:17: created_at: not an ISO 8601 date or date-time"
 */
export async function importCanonical(
  db: StoreDatabase,
  dir: string,
  options: ImportCanonicalOptions = {},
): Promise<ImportReport> {
  const { hashKey, onProgress, batchSize = DEFAULT_BATCH } = options;
  if (hashKey !== undefined) checkHashKey(hashKey);
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new CoopNodeError('InvalidArgument', 'batchSize must be a positive integer');
  }
  const dirStat = await stat(dir).catch(() => undefined);
  if (!dirStat?.isDirectory()) {
    throw new CoopNodeError(
      'ImportFailed',
      'the import directory does not exist or is not a directory',
    );
  }
  const present = await Promise.all(
    CANONICAL_FILES.map(
      async (f) => (await stat(join(dir, f.file)).catch(() => undefined))?.isFile() ?? false,
    ),
  );
  if (!present.includes(true)) {
    throw new CoopNodeError(
      'ImportFailed',
      `the import directory holds none of ${CANONICAL_FILES.map((f) => f.file).join(', ')}`,
    );
  }

  return recordImportRun(db, 'canonical', async () => {
    const files: ImportFileReport[] = [];
    const rejected: string[] = [];
    const progress = { total: 0 };
    for (const [i, spec] of CANONICAL_FILES.entries()) {
      const report: ImportFileReport = {
        file: spec.file,
        present: present[i] === true,
        read: 0,
        imported: 0,
        rejected: 0,
      };
      files.push(report);
      if (!report.present) continue;
      await importFile(db, join(dir, spec.file), spec, report, rejected, {
        ctx: { hashKey },
        batchSize,
        progress,
        onProgress,
      });
    }
    return { files, rejected, warnings: [] };
  });
}

interface FileRun {
  readonly ctx: RowContext;
  readonly batchSize: number;
  readonly progress: { total: number };
  readonly onProgress: ((p: ImportProgress) => void) | undefined;
}

async function importFile(
  db: StoreDatabase,
  path: string,
  spec: CanonicalFile,
  report: ImportFileReport,
  rejected: string[],
  run: FileRun,
): Promise<void> {
  const reject = (line: number, reason: string) => {
    report.rejected++;
    rejected.push(`${spec.file}:${line}: ${reason}`);
  };
  const tell = () =>
    run.onProgress?.({ file: spec.file, fileRowsRead: report.read, rowsRead: run.progress.total });

  let batch: Record<string, unknown>[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const rows = batch;
    batch = [];
    await db.transaction(async (tx) => {
      await ensureStores(
        tx,
        rows.map((r) => r['storeId'] as string),
      );
      await upsertRows(tx, spec.table, rows);
    });
    report.imported += rows.length;
    tell();
  };

  let csv;
  try {
    csv = await openCsv(path);
  } catch (err) {
    if (err instanceof CsvSyntaxError) return reject(err.line, `${err.reason}; file not read`);
    throw new CoopNodeError('ImportFailed', `cannot read ${spec.file}`, { cause: err });
  }
  if (csv === null) return;
  const missing = requiredKeys(spec.schema.shape).filter((c) => !csv.header.includes(c));
  if (missing.length > 0) {
    const cols = missing.map((c) => `"${c}"`).join(', ');
    return reject(
      1,
      `header lacks required column${missing.length > 1 ? 's' : ''} ${cols}; file not read`,
    );
  }
  try {
    for await (const { line, fields } of csv.records) {
      report.read++;
      run.progress.total++;
      const parsed = spec.schema.safeParse(fields);
      if (!parsed.success) {
        reject(line, formatIssues(parsed.error));
        continue;
      }
      const row = spec.toRow(parsed.data, run.ctx);
      if (typeof row === 'string') {
        reject(line, row);
        continue;
      }
      batch.push(row);
      if (batch.length >= run.batchSize) await flush();
    }
  } catch (err) {
    if (!(err instanceof CsvSyntaxError)) throw err;
    report.read++;
    run.progress.total++;
    reject(err.line, `${err.reason}; the rest of the file was not read`);
  }
  await flush();
  tell();
}
