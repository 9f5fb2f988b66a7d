import { fileURLToPath } from 'node:url';
import type { DatabaseKind, DrizzleDatabase } from '@coopfl/storage';
import { MEMORY_TARGET, openDrizzle, redactTarget } from '@coopfl/storage';
import { CoopNodeError } from '../errors';
import * as schema from './schema';

/**
 * The node's database handle, one type for both drivers (drizzle's common `PgDatabase` with the
 * node's schema). Code takes a `StoreDatabase` and never learns which driver is behind it.
 */
export type StoreDatabase = DrizzleDatabase<typeof schema>;

/** Which driver an {@link OpenedStore} uses. */
export type StoreKind = DatabaseKind;

/** An open, migrated node database and the way to close it. */
export interface OpenedStore {
  readonly db: StoreDatabase;
  readonly kind: StoreKind;
  /** Closes the pool (postgres) or the embedded instance (PGlite). Idempotent. */
  close(): Promise<void>;
}

/** Where the node keeps its embedded database when no target is given (DESIGN §3). */
export const DEFAULT_STORE_PATH = './.coopfl/node';
/** The target for a throw-away in-memory PGlite database (tests, the simulator). */
export const MEMORY_STORE = MEMORY_TARGET;

const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));
/**
 * The node records applied migrations in its own table, so a node and a coordinator that share
 * one PostgreSQL database (a demo set-up) do not read each other's migration history.
 */
const MIGRATIONS_TABLE = '__coopfl_node_migrations';
/** Advisory lock key serialising migrations of nodes sharing one PostgreSQL ('node'). */
const MIGRATION_LOCK_KEY = 0x6e6f6465;

/** A target as it may appear in an error or log line (no user, password or query string). */
export const redactStoreTarget = redactTarget;

/**
 * Opens the node's database and applies pending migrations (schemas `shop` and `coopfl`) first.
 *
 * - `postgres://…` / `postgresql://…`: PostgreSQL through postgres.js; migrations run under an
 *   advisory lock, so several nodes may start together on one server.
 * - `memory://`: an in-memory PGlite database, gone on close.
 * - anything else: a directory for an embedded PGlite database, created if missing (one process
 *   at a time).
 *
 * @example
 * const { db, close } = await openStore(process.env.COOPFL_STORE_URL);
 * try {
 *   await importCanonical(db, './data', { hashKey });
 * } finally {
 *   await close();
 * }
 */
export async function openStore(target: string = DEFAULT_STORE_PATH): Promise<OpenedStore> {
  return openDrizzle(target, {
    schema,
    migrationsFolder: MIGRATIONS_FOLDER,
    migrationsTable: MIGRATIONS_TABLE,
    lockKey: MIGRATION_LOCK_KEY,
    error: (code, message, cause) => new CoopNodeError(code, message, { cause }),
  });
}
