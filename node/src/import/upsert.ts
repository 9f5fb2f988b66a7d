import { getTableColumns, sql } from 'drizzle-orm';
import { getTableConfig, type PgColumn, type PgTable } from 'drizzle-orm/pg-core';
import type { StoreDatabase } from '../store/open';

/**
 * Upserts `rows` into `table` on its primary key in one statement: new keys are inserted, existing
 * ones take the new values, and rows whose values are unchanged are not touched at all (so
 * re-importing a file rewrites nothing). Duplicate keys within `rows` keep the last one, as a
 * second update of the same row in one statement is an error in PostgreSQL.
 *
 * The rows travel as one JSON parameter, unpacked by `json_populate_recordset` into the table's
 * row type: building a statement with one parameter per value took most of an import's time
 * (drizzle spends ~2 µs per value; 5,000 order rows have 45,000). Rows that JSON cannot carry
 * exactly (binary values, non-finite numbers, a row leaving a column with a default unset while
 * another sets it) go through drizzle's multi-row insert instead, with the same result.
 *
 * @returns the number of distinct keys written.
 */
export async function upsertRows<T extends PgTable>(
  db: Pick<StoreDatabase, 'insert' | 'execute'>,
  table: T,
  rows: readonly T['$inferInsert'][],
): Promise<number> {
  if (rows.length === 0) return 0;
  const config = getTableConfig(table);
  const columns = getTableColumns(table);
  const pk = config.primaryKeys[0]?.columns ?? Object.values(columns).filter((c) => c.primary);
  const pkNames = new Set(pk.map((c) => c.name));
  const keyOf = Object.entries(columns)
    .filter(([, c]) => pkNames.has(c.name))
    .map(([k]) => k);
  const unique = new Map<string, T['$inferInsert']>();
  for (const row of rows) {
    const r = row as Record<string, unknown>;
    unique.set(JSON.stringify(keyOf.map((k) => r[k])), row);
  }
  const values = [...unique.values()];
  const others = Object.entries(columns).filter(([, c]) => !pkNames.has(c.name));
  const q = (name: string) => `"${name.replace(/"/g, '""')}"`;
  const target = q(config.name);
  const current = others.map(([, c]) => `${target}.${q(c.name)}`).join(', ');
  const incoming = others.map(([, c]) => `excluded.${q(c.name)}`).join(', ');

  const json = asJsonRecords(columns, values);
  if (json) {
    const names = json.columns.map(q).join(', ');
    const conflict =
      others.length === 0
        ? 'do nothing'
        : `do update set ${others.map(([, c]) => `${q(c.name)} = excluded.${q(c.name)}`).join(', ')}
           where row(${current}) is distinct from row(${incoming})`;
    await db.execute(
      sql`insert into ${table} (${sql.raw(names)})
          select ${sql.raw(names)} from json_populate_recordset(null::${table}, ${json.text}::text::json)
          on conflict (${sql.raw(pk.map((c) => q(c.name)).join(', '))}) ${sql.raw(conflict)}`,
    );
    return values.length;
  }

  const insert = db.insert(table).values(values);
  if (others.length === 0) {
    await insert.onConflictDoNothing();
    return values.length;
  }
  const set = Object.fromEntries(
    others.map(([k, c]) => [k, sql.raw(`excluded.${q(c.name)}`)]),
  ) as Parameters<typeof insert.onConflictDoUpdate>[0]['set'];
  await insert.onConflictDoUpdate({
    target: pk,
    set,
    setWhere: sql.raw(`row(${current}) is distinct from row(${incoming})`),
  });
  return values.length;
}

/**
 * The rows as a JSON array of objects keyed by column name, with each value as drizzle would
 * send it (`mapToDriverValue`), and the columns any row sets; null when some value has no exact
 * JSON form or a defaulted column would lose its default (see {@link upsertRows}).
 */
function asJsonRecords(
  columns: Record<string, PgColumn>,
  rows: readonly Record<string, unknown>[],
): { text: string; columns: string[] } | null {
  const used = Object.entries(columns).filter(([k]) => rows.some((r) => r[k] !== undefined));
  for (const [k, c] of used) {
    if (c.hasDefault && rows.some((r) => r[k] === undefined)) return null;
  }
  const records: Record<string, unknown>[] = [];
  for (const r of rows) {
    const out: Record<string, unknown> = {};
    for (const [k, c] of used) {
      const v = r[k];
      if (v === undefined) continue;
      if (v === null) {
        out[c.name] = null;
        continue;
      }
      const d = c.mapToDriverValue(v);
      const exact =
        typeof d === 'string' ||
        typeof d === 'boolean' ||
        (typeof d === 'number' && Number.isFinite(d));
      if (!exact) return null;
      out[c.name] = d;
    }
    records.push(out);
  }
  return { text: JSON.stringify(records), columns: used.map(([, c]) => c.name) };
}
