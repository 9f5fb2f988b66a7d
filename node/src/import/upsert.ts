import { getTableColumns, sql } from 'drizzle-orm';
import { getTableConfig, type PgTable } from 'drizzle-orm/pg-core';
import type { StoreDatabase } from '../store/open';

/**
 * Upserts `rows` into `table` on its primary key in one statement: new keys are inserted, existing
 * ones take the new values, and rows whose values are unchanged are not touched at all (so
 * re-importing a file rewrites nothing). Duplicate keys within `rows` keep the last one, as a
 * second update of the same row in one statement is an error in PostgreSQL.
 *
 * @returns the number of distinct keys written.
 */
export async function upsertRows<T extends PgTable>(
  db: Pick<StoreDatabase, 'insert'>,
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
  const insert = db.insert(table).values(values);
  if (others.length === 0) {
    await insert.onConflictDoNothing();
    return values.length;
  }
  const q = (name: string) => `"${name.replace(/"/g, '""')}"`;
  const target = q(config.name);
  const set = Object.fromEntries(
    others.map(([k, c]) => [k, sql.raw(`excluded.${q(c.name)}`)]),
  ) as Parameters<typeof insert.onConflictDoUpdate>[0]['set'];
  const current = others.map(([, c]) => `${target}.${q(c.name)}`).join(', ');
  const incoming = others.map(([, c]) => `excluded.${q(c.name)}`).join(', ');
  await insert.onConflictDoUpdate({
    target: pk,
    set,
    setWhere: sql.raw(`row(${current}) is distinct from row(${incoming})`),
  });
  return values.length;
}
