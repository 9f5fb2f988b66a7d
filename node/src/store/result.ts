/**
 * Rows of a raw `db.execute` result on either driver: postgres.js returns the rows array itself,
 * PGlite a result object with `rows`.
 */
export function resultRows<T>(res: unknown): T[] {
  return (Array.isArray(res) ? res : (res as { rows: unknown[] }).rows) as T[];
}
