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
import { CoordinatorError } from '../errors';
import * as schema from './schema';

/**
 * The coordinator's database handle, one type for both drivers: the common drizzle `PgDatabase`
 * base with our schema. Service code takes a `Database` and never learns which driver is behind it.
 * (Driver-specific results, such as the raw shape returned by `db.execute`, are typed loosely.)
 */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

/** Which driver an {@link OpenedDatabase} uses. */
export type DatabaseKind = 'postgres' | 'pglite';

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
export const MEMORY_DATABASE = 'memory://';

/** Resolved from this module, not the working directory, so any caller finds the migrations. */
const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));
/** Key of the advisory lock that serialises migrations of coordinators sharing one PostgreSQL. */
const MIGRATION_LOCK_KEY = 0x636f6f70; // 'coop'

/**
 * A target as it may appear in an error or log line: user, password and query string (which may
 * carry `password=` or `sslkey=`) removed.
 *
 * @example
 * redactTarget('postgres://coop:secret@db:5432/coop?sslmode=require'); // 'postgres://db:5432/coop'
 */
export function redactTarget(target: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)(.*)$/i.exec(target);
  if (!m) return target;
  const rest = (m[2] ?? '').replace(/^[^/?#]*@/, '').replace(/[?#].*$/, '');
  return `${m[1]}${rest}`;
}

function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

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
  if (isPostgresUrl(target)) return openPostgres(target);
  if (target === MEMORY_DATABASE) return openPglite(undefined, target);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    throw new CoordinatorError(
      'InvalidConfig',
      `unsupported database target "${redactTarget(target)}": use postgres://…, memory:// or a directory path`,
    );
  }
  if (target.trim() === '') {
    throw new CoordinatorError('InvalidConfig', 'database target is empty');
  }
  return openPglite(resolve(target), target);
}

async function openPostgres(url: string): Promise<OpenedDatabase> {
  const shown = redactTarget(url);
  // One dedicated connection holds the session-level advisory lock while migrating.
  const migrator = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await migrator`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
  } catch (cause) {
    await migrator.end({ timeout: 5 }).catch(() => {});
    throw new CoordinatorError('DatabaseUnavailable', `cannot connect to ${shown}`, { cause });
  }
  try {
    await migratePostgres(drizzlePostgres({ client: migrator, schema }), {
      migrationsFolder: MIGRATIONS_FOLDER,
    });
  } catch (cause) {
    throw new CoordinatorError('MigrationFailed', `applying migrations to ${shown} failed`, {
      cause,
    });
  } finally {
    // Ending the connection also releases the advisory lock.
    await migrator.end({ timeout: 5 }).catch(() => {});
  }

  const client = postgres(url, { onnotice: () => {} });
  const db: Database = drizzlePostgres({ client, schema });
  let closed: Promise<void> | undefined;
  return {
    db,
    kind: 'postgres',
    close: () => (closed ??= client.end({ timeout: 5 })),
  };
}

/**
 * PGlite's own bytea codec converts one byte at a time through JavaScript strings (seconds for the
 * 400 kB masked vectors of a 100k-parameter model); Node's hex codec does the same in native code.
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
    const b = Buffer.from(text.slice(2), 'hex');
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength).slice();
  },
};

async function openPglite(dataDir: string | undefined, target: string): Promise<OpenedDatabase> {
  const shown = redactTarget(target);
  let client: PGlite;
  try {
    if (dataDir !== undefined) await mkdir(dataDir, { recursive: true });
    client = await PGlite.create(dataDir, { serializers: BYTEA_SERIALIZER, parsers: BYTEA_PARSER });
  } catch (cause) {
    throw new CoordinatorError('DatabaseUnavailable', `cannot open PGlite database ${shown}`, {
      cause,
    });
  }
  const pglite = drizzlePglite({ client, schema });
  try {
    await migratePglite(pglite, { migrationsFolder: MIGRATIONS_FOLDER });
  } catch (cause) {
    await client.close().catch(() => {});
    throw new CoordinatorError('MigrationFailed', `applying migrations to ${shown} failed`, {
      cause,
    });
  }
  const db: Database = pglite;
  let closed: Promise<void> | undefined;
  return {
    db,
    kind: 'pglite',
    close: () => (closed ??= client.close()),
  };
}
