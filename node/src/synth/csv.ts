import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { CANONICAL_COLUMNS } from './layout';
import type { CooperativeTables, Row, TableName } from './layout';

/** Quotes a CSV field when it holds a comma, quote or line break (RFC 4180). */
function field(v: string | number): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Rows of one table as CSV lines (with header), in chunks so huge tables never form one string. */
export function* csvChunks<T extends TableName>(
  table: T,
  rows: readonly Row<T>[],
  chunkRows = 20_000,
): Generator<string> {
  const columns = CANONICAL_COLUMNS[table] as readonly (keyof Row<T>)[];
  yield `${columns.join(',')}\n`;
  for (let i = 0; i < rows.length; i += chunkRows) {
    const lines: string[] = [];
    for (const row of rows.slice(i, i + chunkRows)) {
      lines.push(columns.map((c) => field(row[c])).join(','));
    }
    yield `${lines.join('\n')}\n`;
  }
}

/** One table as a CSV string (header row, `\n` line ends). */
export function toCsv<T extends TableName>(table: T, rows: readonly Row<T>[]): string {
  return [...csvChunks(table, rows)].join('');
}

/** The tables present, in file order. */
export function presentTables(tables: CooperativeTables): TableName[] {
  const names: TableName[] = ['products', 'customers', 'orders', 'order_items'];
  // No labels at all (a public data set without them) is no file: the fraud model then skips the
  // shop instead of learning "never fraud".
  if (tables.fraud_labels.length > 0) names.push('fraud_labels');
  if (tables.daily_sales) names.push('daily_sales');
  return names;
}

/**
 * Writes a cooperative as `<table>.csv` files into `dir` (created if missing), overwriting files of
 * the same names. Returns the number of data rows per file.
 *
 * @example
 * const rows = await writeCooperative('./data/coop', generateCooperative({ seed: 1 }));
 * // { 'products.csv': 2130, 'customers.csv': 30512, … }
 */
export async function writeCooperative(
  dir: string,
  tables: CooperativeTables,
): Promise<Record<string, number>> {
  await mkdir(dir, { recursive: true });
  const out: Record<string, number> = {};
  for (const name of presentTables(tables)) {
    const rows = (tables[name] ?? []) as Row<typeof name>[];
    const file = await open(join(dir, `${name}.csv`), 'w');
    try {
      for (const chunk of csvChunks(name, rows)) await file.write(chunk);
    } finally {
      await file.close();
    }
    out[`${name}.csv`] = rows.length;
  }
  return out;
}
