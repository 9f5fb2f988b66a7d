import { eq } from 'drizzle-orm';
import type { StoreDatabase } from '../store/open';
import { importRuns } from '../store/schema';

/** Counts for one input file. */
export interface ImportFileReport {
  /** File name (no directory). */
  readonly file: string;
  /** False when an optional file was not there. */
  readonly present: boolean;
  /** Data records read (header excluded). */
  read: number;
  /** Records that passed validation and were upserted. */
  imported: number;
  /** Records reported in {@link ImportReport.rejected}. */
  rejected: number;
}

/**
 * What an import did. `rejected` has one `file:line: reason` entry per rejected record (the
 * reason names the column and what is wrong, never the value); `warnings` lists records that were
 * imported with a fallback (e.g. a product without SKU).
 */
export interface ImportReport {
  /** The `coopfl.import_runs` row recording this import. */
  readonly runId: string;
  readonly files: ImportFileReport[];
  readonly rejected: string[];
  readonly warnings: string[];
  readonly rowsRead: number;
  readonly rowsImported: number;
  readonly rowsRejected: number;
}

/** Progress of a running import, passed to `onProgress` after each batch and at each file end. */
export interface ImportProgress {
  readonly file: string;
  /** Records read so far from `file`. */
  readonly fileRowsRead: number;
  /** Records read so far from all files. */
  readonly rowsRead: number;
}

/** Records a run in `coopfl.import_runs` around `work`, with its totals (never row contents). */
export async function recordImportRun(
  db: StoreDatabase,
  source: 'canonical' | 'shopify',
  work: (
    runId: string,
  ) => Promise<Omit<ImportReport, 'runId' | 'rowsRead' | 'rowsImported' | 'rowsRejected'>>,
): Promise<ImportReport> {
  const [run] = await db
    .insert(importRuns)
    .values({ source, status: 'running' })
    .returning({ id: importRuns.id });
  const runId = run!.id;
  try {
    const partial = await work(runId);
    const sum = (k: 'read' | 'imported' | 'rejected') =>
      partial.files.reduce((n, f) => n + f[k], 0);
    const report: ImportReport = {
      runId,
      ...partial,
      rowsRead: sum('read'),
      rowsImported: sum('imported'),
      rowsRejected: sum('rejected'),
    };
    await db
      .update(importRuns)
      .set({
        status: 'done',
        finishedAt: new Date(),
        rowsRead: report.rowsRead,
        rowsImported: report.rowsImported,
        rowsRejected: report.rowsRejected,
        summary: { files: report.files, warnings: report.warnings.length },
      })
      .where(eq(importRuns.id, runId));
    return report;
  } catch (err) {
    await db
      .update(importRuns)
      .set({ status: 'failed', finishedAt: new Date() })
      .where(eq(importRuns.id, runId))
      .catch(() => {});
    throw err;
  }
}
