import type { DatabaseHarness } from '@coopfl/storage/testing';
import { describeDatabases } from '@coopfl/storage/testing';
import { openStore } from './open';
import * as schema from './schema';

/**
 * The node's storage conformance harness: a suite runs on PGlite always and on PostgreSQL (a
 * throw-away database per file) when `DATABASE_URL` is set; see `@coopfl/storage/testing`.
 */
export type StoreHarness = DatabaseHarness<typeof schema>;
export { postgresTestUrl } from '@coopfl/storage/testing';

export function describeStores(name: string, suite: (harness: StoreHarness) => void): void {
  describeDatabases(name, openStore, schema, suite);
}
