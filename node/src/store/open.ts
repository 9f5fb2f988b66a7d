import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { CoopNodeError } from '../errors';
import * as schema from './schema';

/**
 * The node's database handle, one type for both drivers (drizzle's common `PgDatabase` with the
 * node's schema). Code takes a `StoreDatabase` and never learns which driver is behind it.
 */
export type StoreDatabase = PgDatabase<PgQueryResultHKT, typeof schema>;

/** Which driver an {@link OpenedStore} uses. */
export type StoreKind = 'postgres' | 'pglite';

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
export const MEMORY_STORE = 'memory://';

const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));
/**
 * The node records applied migrations in its own table, so a node and a coordinator that share
 * one PostgreSQL database (a demo set-up) do not read each other's migration history.
 */
const MIGRATIONS = {
  migrationsFolder: MIGRATIONS_FOLDER,
  migrationsSchema: 'drizzle',
  migrationsTable: '__coopfl_node_migrations',
} as const;
/** Advisory lock key serialising migrations of nodes sharing one PostgreSQL ('node'). */
const MIGRATION_LOCK_KEY = 0x6e6f6465;

/**
 * A target as it may appear in an error or log line: user, password and query string removed.
 *
 * @example
 * redactStoreTarget('postgres://shop:secret@db/shop?sslmode=require'); // 'postgres://db/shop'
 */
export function redactStoreTarget(target: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)(.*)$/i.exec(target);
  if (!m) return target;
  const rest = (m[2] ?? '').replace(/^[^/?#]*@/, '').replace(/[?#].*$/, '');
  return `${m[1]}${rest}`;
}

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
  if (/^postgres(ql)?:\/\//i.test(target)) return openPostgres(target);
  if (target === MEMORY_STORE) return openPglite(undefined, target);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    throw new CoopNodeError(
      'InvalidConfig',
      `unsupported store target "${redactStoreTarget(target)}": use postgres://…, memory:// or a directory path`,
    );
  }
  if (target.trim() === '') throw new CoopNodeError('InvalidConfig', 'store target is empty');
  return openPglite(resolve(target), target);
}

async function openPostgres(url: string): Promise<OpenedStore> {
  const shown = redactStoreTarget(url);
  const migrator = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await migrator`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
  } catch (cause) {
    await migrator.end({ timeout: 5 }).catch(() => {});
    throw new CoopNodeError('DatabaseUnavailable', `cannot connect to ${shown}`, { cause });
  }
  try {
    await migratePostgres(drizzlePostgres({ client: migrator, schema }), MIGRATIONS);
  } catch (cause) {
    throw new CoopNodeError('MigrationFailed', `applying migrations to ${shown} failed`, { cause });
  } finally {
    // Ending the connection releases the advisory lock.
    await migrator.end({ timeout: 5 }).catch(() => {});
  }
  const client = postgres(url, { onnotice: () => {} });
  const db: StoreDatabase = drizzlePostgres({ client, schema });
  let closed: Promise<void> | undefined;
  return { db, kind: 'postgres', close: () => (closed ??= client.end({ timeout: 5 })) };
}

/**
 * PGlite's own bytea codec goes byte by byte through JS strings; Node's hex codec is native.
 * (Model weights are hundreds of kB.)
 */
const BYTEA_OID = 17;
const BYTEA_SERIALIZER = {
  [BYTEA_OID]: (value: unknown): string => {
    if (!(value instanceof Uint8Array)) throw new TypeError('bytea parameter must be a Uint8Array');
    return `\\x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`;
  },
};
const BYTEA_PARSER = {
  [BYTEA_OID]: (text: string): Uint8Array => {
    if (!text.startsWith('\\x'))
      throw new TypeError('bytea value from PGlite is not in hex format');
    return Uint8Array.from(Buffer.from(text.slice(2), 'hex'));
  },
};

async function openPglite(dataDir: string | undefined, target: string): Promise<OpenedStore> {
  const shown = redactStoreTarget(target);
  let client: PGlite;
  try {
    if (dataDir !== undefined) await mkdir(dataDir, { recursive: true });
    client = await PGlite.create(dataDir, { serializers: BYTEA_SERIALIZER, parsers: BYTEA_PARSER });
  } catch (cause) {
    throw new CoopNodeError('DatabaseUnavailable', `cannot open PGlite database ${shown}`, {
      cause,
    });
  }
  const pglite = drizzlePglite({ client, schema });
  try {
    await migratePglite(pglite, MIGRATIONS);
  } catch (cause) {
    await client.close().catch(() => {});
    throw new CoopNodeError('MigrationFailed', `applying migrations to ${shown} failed`, { cause });
  }
  const db: StoreDatabase = pglite;
  let closed: Promise<void> | undefined;
  return { db, kind: 'pglite', close: () => (closed ??= client.close()) };
}
