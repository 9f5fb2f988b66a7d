/**
 * `@coopfl/storage`: the database plumbing the coordinator and the node share — one drizzle handle
 * type over PostgreSQL (postgres.js) or embedded PGlite, migrations on open under an advisory lock,
 * `Uint8Array` bytea columns, and throw-away PostgreSQL databases for tests and benchmarks.
 */
export { openDrizzle, redactTarget, isPostgresUrl, MEMORY_TARGET } from './open';
export type { DatabaseKind, DrizzleDatabase, Opened, OpenOptions, OpenFailure } from './open';
export { toBytes, bytea, timestamptz, createdAt, oneOf } from './columns';
export { createTemporaryDatabase } from './temporary';
export type { TemporaryDatabase } from './temporary';
