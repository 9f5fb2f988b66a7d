/**
 * SQLSTATE codes the services act on (PostgreSQL appendix A). Both drivers surface them on the
 * driver error, which drizzle wraps in a `DrizzleQueryError`.
 */
export const SQLSTATE = {
  UniqueViolation: '23505',
  ForeignKeyViolation: '23503',
  /**
   * Raised by PostgreSQL 17+ (and PGlite) instead of 23503 when an `ON DELETE RESTRICT` foreign
   * key blocks a delete; older servers say 23503. Test with {@link isReferenceViolation}.
   */
  RestrictViolation: '23001',
  CheckViolation: '23514',
  NotNullViolation: '23502',
  SerializationFailure: '40001',
} as const;

/**
 * What a failed query's error says about the database's verdict, safe to log. drizzle's own error
 * message contains the query *and its parameters* (hashes, weights, keys), so log this summary
 * instead, never `err.message` of a database error.
 */
export interface DbErrorInfo {
  /** The SQLSTATE, e.g. `23505`. */
  readonly code: string;
  /** The violated constraint or index, when the server names one. */
  readonly constraint?: string;
  /** The table, when the server names one. */
  readonly table?: string;
}

const field = (o: object, ...keys: string[]): string | undefined => {
  for (const k of keys) {
    const v = (o as Record<string, unknown>)[k];
    if (typeof v === 'string' && v !== '') return v;
  }
  return undefined;
};

/**
 * Finds the driver error in `err`'s cause chain (postgres.js `PostgresError` or PGlite's
 * `DatabaseError`) and returns its SQLSTATE, constraint and table; `undefined` if none.
 *
 * @example
 * try {
 *   await db.insert(memberKeys).values(key);
 * } catch (err) {
 *   if (dbErrorInfo(err)?.code === SQLSTATE.UniqueViolation) return conflict('key already in use');
 *   throw err;
 * }
 */
export function dbErrorInfo(err: unknown): DbErrorInfo | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 8 && typeof e === 'object' && e !== null; depth++) {
    const code = field(e, 'code');
    // A SQLSTATE is five digits/capitals; Node system errors (EPIPE…) carry a `syscall` instead.
    if (code !== undefined && /^[0-9A-Z]{5}$/.test(code) && !('syscall' in e)) {
      const constraint = field(e, 'constraint_name', 'constraint');
      const table = field(e, 'table_name', 'table');
      return {
        code,
        ...(constraint !== undefined && { constraint }),
        ...(table !== undefined && { table }),
      };
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * True when a foreign key refused the statement: a dangling reference on insert/update, or a
 * delete of a referenced row (23503, or 23001 for `ON DELETE RESTRICT` on PostgreSQL 17+).
 */
export function isReferenceViolation(err: unknown): boolean {
  const code = dbErrorInfo(err)?.code;
  return code === SQLSTATE.ForeignKeyViolation || code === SQLSTATE.RestrictViolation;
}
