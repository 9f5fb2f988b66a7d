import { fileURLToPath } from 'node:url';
import type { DatabaseKind as Kind, DrizzleDatabase, Opened } from '@coopfl/storage';
import { MEMORY_TARGET, openDrizzle, redactTarget } from '@coopfl/storage';
import { CoordinatorError } from '../errors';
import * as schema from './schema';

/**
 * The coordinator's database handle, one type for both drivers: the common drizzle `PgDatabase`
 * base with our schema. Service code takes a `Database` and never learns which driver is behind it.
 * (Driver-specific results, such as the raw shape returned by `db.execute`, are typed loosely.)
 */
export type Database = DrizzleDatabase<typeof schema>;

/** Which driver an {@link OpenedDatabase} uses. */
export type DatabaseKind = Kind;

/** An open, migrated database and the way to close it. */
export interface OpenedDatabase {
  readonly db: Database;
  readonly kind: DatabaseKind;
  /** Closes the connection pool (postgres) or the embedded instance (PGlite). Idempotent. */
  close(): Promise<void>;
}

/** Where the coordinator keeps its embedded database when no target is given (DESIGN §3). */
export const DEFAULT_DATABASE_PATH = './.coopfl/coordinator';
/** The target for a throw-away in-memory PGlite database (tests, experiments). */
export const MEMORY_DATABASE = MEMORY_TARGET;

/** Resolved from this module, not the working directory, so any caller finds the migrations. */
const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));
/** Key of the advisory lock that serialises migrations of coordinators sharing one PostgreSQL. */
const MIGRATION_LOCK_KEY = 0x636f6f70; // 'coop'

export { redactTarget };

/**
 * Opens the coordinator database and applies pending migrations before returning.
 *
 * - `postgres://…` or `postgresql://…`: PostgreSQL through postgres.js (a connection pool).
 * - `memory://`: an in-memory PGlite database, gone on close.
 * - anything else: a directory for an embedded PGlite database, created if missing.
 *
 * Several coordinators may start together on one PostgreSQL: migrations run under an advisory
 * lock. A PGlite directory must be opened by one process at a time.
 *
 * @example
 * const { db, close } = await openDatabase(process.env.DATABASE_URL);
 * try {
 *   const approved = await db.select().from(members).where(eq(members.status, 'approved'));
 * } finally {
 *   await close();
 * }
 */
export async function openDatabase(
  target: string = DEFAULT_DATABASE_PATH,
): Promise<OpenedDatabase> {
  const opened: Opened<typeof schema> = await openDrizzle(target, {
    schema,
    migrationsFolder: MIGRATIONS_FOLDER,
    lockKey: MIGRATION_LOCK_KEY,
    error: (code, message, cause) => new CoordinatorError(code, message, { cause }),
  });
  return opened;
}
