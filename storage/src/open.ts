import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { preparedPglite } from './pglite-prepared';
import { preparedStatements } from './prepared';

/** Why opening a database failed; each package turns these into its own error class. */
export type OpenFailure = 'InvalidConfig' | 'DatabaseUnavailable' | 'MigrationFailed';

export type DatabaseKind = 'postgres' | 'pglite';

/** One handle type for both drivers: drizzle's common `PgDatabase` with the caller's schema. */
export type DrizzleDatabase<S extends Record<string, unknown>> = PgDatabase<PgQueryResultHKT, S>;

export interface Opened<S extends Record<string, unknown>> {
  readonly db: DrizzleDatabase<S>;
  readonly kind: DatabaseKind;
  /** Closes the pool (postgres) or the embedded instance (PGlite). Idempotent. */
  close(): Promise<void>;
}

export interface OpenOptions<S extends Record<string, unknown>> {
  schema: S;
  migrationsFolder: string;
  /** Table recording applied migrations (in schema `drizzle`); distinct per application. */
  migrationsTable?: string;
  /** Advisory lock key serialising migrations of processes sharing one PostgreSQL. */
  lockKey: number;
  /** Builds the caller's error for a failure (its message never holds credentials). */
  error: (code: OpenFailure, message: string, cause?: unknown) => Error;
}

/** The target for a throw-away in-memory PGlite database (tests, simulations). */
export const MEMORY_TARGET = 'memory://';

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

export const isPostgresUrl = (target: string): boolean => /^postgres(ql)?:\/\//i.test(target);

/**
 * Opens a database and applies pending migrations before returning.
 * - `postgres://…`: PostgreSQL through postgres.js; migrations run on one connection holding a
 *   session advisory lock, so processes starting together on one server do not race.
 * - `memory://`: in-memory PGlite, gone on close.
 * - anything else: a directory for embedded PGlite (created if missing; one process at a time).
 *
 * @example
 * const { db, close } = await openDrizzle('memory://', { schema, migrationsFolder, lockKey: 1, error });
 */
export async function openDrizzle<S extends Record<string, unknown>>(
  target: string,
  o: OpenOptions<S>,
): Promise<Opened<S>> {
  if (isPostgresUrl(target)) return openPostgres(target, o);
  if (target === MEMORY_TARGET) return openPglite(undefined, target, o);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    throw o.error(
      'InvalidConfig',
      `unsupported database target "${redactTarget(target)}": use postgres://…, memory:// or a directory path`,
    );
  }
  if (target.trim() === '') throw o.error('InvalidConfig', 'database target is empty');
  return openPglite(resolve(target), target, o);
}

const migrationConfig = (o: OpenOptions<Record<string, unknown>>) => ({
  migrationsFolder: o.migrationsFolder,
  ...(o.migrationsTable ? { migrationsSchema: 'drizzle', migrationsTable: o.migrationsTable } : {}),
});

async function openPostgres<S extends Record<string, unknown>>(
  url: string,
  o: OpenOptions<S>,
): Promise<Opened<S>> {
  const shown = redactTarget(url);
  const migrator = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await migrator`select pg_advisory_lock(${o.lockKey})`;
  } catch (cause) {
    await migrator.end({ timeout: 5 }).catch(() => {});
    throw o.error('DatabaseUnavailable', `cannot connect to ${shown}`, cause);
  }
  try {
    await migratePostgres(
      drizzlePostgres({ client: migrator, schema: o.schema }),
      migrationConfig(o),
    );
  } catch (cause) {
    throw o.error('MigrationFailed', `applying migrations to ${shown} failed`, cause);
  } finally {
    // Ending the connection also releases the advisory lock.
    await migrator.end({ timeout: 5 }).catch(() => {});
  }
  const client = postgres(url, { onnotice: () => {} });
  const db: DrizzleDatabase<S> = drizzlePostgres({
    client: preparedStatements(client),
    schema: o.schema,
  });
  let closed: Promise<void> | undefined;
  return { db, kind: 'postgres', close: () => (closed ??= client.end({ timeout: 5 })) };
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

async function openPglite<S extends Record<string, unknown>>(
  dataDir: string | undefined,
  target: string,
  o: OpenOptions<S>,
): Promise<Opened<S>> {
  const shown = redactTarget(target);
  let client: PGlite;
  try {
    if (dataDir !== undefined) await mkdir(dataDir, { recursive: true });
    client = await PGlite.create(dataDir, { serializers: BYTEA_SERIALIZER, parsers: BYTEA_PARSER });
  } catch (cause) {
    throw o.error('DatabaseUnavailable', `cannot open PGlite database ${shown}`, cause);
  }
  const pglite = drizzlePglite({ client, schema: o.schema });
  try {
    await migratePglite(pglite, migrationConfig(o));
  } catch (cause) {
    await client.close().catch(() => {});
    throw o.error('MigrationFailed', `applying migrations to ${shown} failed`, cause);
  }
  // Migrated through PGlite's own client; served through named prepared statements.
  const db: DrizzleDatabase<S> = drizzlePglite({
    client: preparedPglite(client),
    schema: o.schema,
  });
  let closed: Promise<void> | undefined;
  return { db, kind: 'pglite', close: () => (closed ??= client.close()) };
}
