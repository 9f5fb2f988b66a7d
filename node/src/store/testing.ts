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

/** The error a promise rejects with; throws (failing the test) when it resolves or rejects with a non-Error. */
export async function rejectionOf(p: Promise<unknown>): Promise<Error> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof Error)) throw new Error('expected a rejection with an Error');
  return err;
}
