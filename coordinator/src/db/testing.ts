import type { DatabaseHarness as Harness } from '@coopfl/storage/testing';
import { describeDatabases as describeOn } from '@coopfl/storage/testing';
import { openDatabase } from './open';
import * as schema from './schema';

/**
 * The coordinator's storage conformance harness: a suite runs on PGlite always and on PostgreSQL
 * (a throw-away database per file) when `DATABASE_URL` is set; see `@coopfl/storage/testing`.
 */
export type DatabaseHarness = Harness<typeof schema>;
export { createTemporaryDatabase } from '@coopfl/storage';
export type { TemporaryDatabase } from '@coopfl/storage';
export { postgresTestUrl } from '@coopfl/storage/testing';

export function describeDatabases(name: string, suite: (harness: DatabaseHarness) => void): void {
  describeOn(name, openDatabase, schema, suite);
}
