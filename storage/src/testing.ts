import { isTable, sql } from 'drizzle-orm';
import { getTableConfig } from 'drizzle-orm/pg-core';
import type { PgTable } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe } from 'vitest';
import type { DatabaseKind, DrizzleDatabase, Opened } from './open';
import { MEMORY_TARGET, isPostgresUrl, redactTarget } from './open';
import { createTemporaryDatabase } from './temporary';

/**
 * Storage conformance harness (CONVENTIONS §11): a suite runs on PGlite (in memory) always and,
 * when `DATABASE_URL` is set, on PostgreSQL in a throw-away database per test file. Without it the
 * PostgreSQL copy is skipped with a visible notice, never silently.
 */
export interface DatabaseHarness<S extends Record<string, unknown>> {
  readonly kind: DatabaseKind;
  /** `memory://` or the temporary database's URL (may hold credentials). */
  readonly target: string;
  readonly db: DrizzleDatabase<S>;
  /** Empties every table of the schema and restarts their sequences. */
  reset(): Promise<void>;
}

/** `DATABASE_URL`, validated; `undefined` when unset or empty. */
export function postgresTestUrl(): string | undefined {
  const url = process.env['DATABASE_URL'];
  if (url === undefined || url.trim() === '') return undefined;
  if (!isPostgresUrl(url)) {
    throw new Error(
      `DATABASE_URL must be a postgres:// or postgresql:// URL, got "${redactTarget(url)}"`,
    );
  }
  return url;
}

/** Empties every table of `schema` in one statement (foreign keys permitting). */
export async function truncateAll(
  db: DrizzleDatabase<Record<string, unknown>>,
  schema: Record<string, unknown>,
): Promise<void> {
  const tables = Object.values(schema)
    .filter((v): v is PgTable => isTable(v))
    .map((t) => {
      const c = getTableConfig(t);
      return `"${c.schema ?? 'public'}"."${c.name}"`;
    });
  await db.execute(sql.raw(`truncate table ${tables.join(', ')} restart identity cascade`));
}

const SETUP_TIMEOUT_MS = 120_000;
let skipNoticeShown = false;

/**
 * Declares `suite` once per available database, as `describe('<name> [pglite]')` and
 * `describe('<name> [postgres]')`, opening each with `open` (which migrates).
 *
 * @example
 * describeDatabases('members', openDatabase, schema, (h) => {
 *   beforeEach(() => h.reset());
 *   it('stores a member', async () => { … });
 * });
 */
export function describeDatabases<S extends Record<string, unknown>>(
  name: string,
  open: (target: string) => Promise<Opened<S>>,
  schema: S,
  suite: (harness: DatabaseHarness<S>) => void,
): void {
  describeOne(`${name} [pglite]`, 'pglite', schema, suite, async () => {
    const opened = await open(MEMORY_TARGET);
    return { opened, target: MEMORY_TARGET, cleanup: () => opened.close() };
  });
  const pgUrl = postgresTestUrl();
  if (pgUrl === undefined) {
    if (!skipNoticeShown) {
      skipNoticeShown = true;
      console.warn(
        'DATABASE_URL is not set: PostgreSQL storage tests are skipped (PGlite ran). Set DATABASE_URL=postgres://… to run them.',
      );
    }
    describe.skip(`${name} [postgres] (DATABASE_URL not set)`, () =>
      suite(unavailableHarness<S>()));
    return;
  }
  describeOne(`${name} [postgres]`, 'postgres', schema, suite, async () => {
    const tmp = await createTemporaryDatabase(pgUrl);
    let opened: Opened<S>;
    try {
      opened = await open(tmp.url);
    } catch (err) {
      await tmp.drop();
      throw err;
    }
    return {
      opened,
      target: tmp.url,
      cleanup: async () => {
        try {
          await opened.close();
        } finally {
          await tmp.drop();
        }
      },
    };
  });
}

interface Fixture<S extends Record<string, unknown>> {
  opened: Opened<S>;
  target: string;
  cleanup(): Promise<void>;
}

function describeOne<S extends Record<string, unknown>>(
  title: string,
  kind: DatabaseKind,
  schema: S,
  suite: (harness: DatabaseHarness<S>) => void,
  setUp: () => Promise<Fixture<S>>,
): void {
  describe(title, () => {
    let fixture: Fixture<S> | undefined;
    // Starting PGlite and migrating takes seconds on a busy machine: more than vitest's default.
    beforeAll(async () => {
      fixture = await setUp();
    }, SETUP_TIMEOUT_MS);
    afterAll(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    }, SETUP_TIMEOUT_MS);
    const current = (): Fixture<S> => {
      if (fixture === undefined)
        throw new Error(`the ${kind} test database is only open inside hooks and tests`);
      return fixture;
    };
    suite({
      kind,
      get target() {
        return current().target;
      },
      get db() {
        return current().opened.db;
      },
      reset: () => truncateAll(current().opened.db, schema),
    });
  });
}

function unavailableHarness<S extends Record<string, unknown>>(): DatabaseHarness<S> {
  const fail = (): never => {
    throw new Error('the postgres test database is not available');
  };
  return {
    kind: 'postgres',
    get target() {
      return fail();
    },
    get db() {
      return fail();
    },
    reset: () => Promise.reject(new Error('the postgres test database is not available')),
  };
}
