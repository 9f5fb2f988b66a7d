import { getTableConfig, type PgTable } from 'drizzle-orm/pg-core';
import { isTable, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe } from 'vitest';
import { CoopNodeError } from '../errors';
import {
  MEMORY_STORE,
  openStore,
  redactStoreTarget,
  type OpenedStore,
  type StoreDatabase,
  type StoreKind,
} from './open';
import * as schema from './schema';
import { createTemporaryDatabase } from '@coopfl/storage';

/**
 * Storage conformance harness (CONVENTIONS §11) for the node: every suite runs on PGlite (in
 * memory) and, when `DATABASE_URL` is set, on PostgreSQL in a throw-away database per test file.
 */
export interface StoreHarness {
  readonly kind: StoreKind;
  /** `memory://` or the temporary database's URL (may hold credentials). */
  readonly target: string;
  readonly db: StoreDatabase;
  /** Empties every `shop` and `coopfl` table. */
  reset(): Promise<void>;
}

/** `DATABASE_URL`, validated; `undefined` when unset or empty. */
export function postgresTestUrl(): string | undefined {
  const url = process.env['DATABASE_URL'];
  if (url === undefined || url.trim() === '') return undefined;
  if (!/^postgres(ql)?:\/\//i.test(url)) {
    throw new CoopNodeError(
      'InvalidConfig',
      `DATABASE_URL must be a postgres:// or postgresql:// URL, got "${redactStoreTarget(url)}"`,
    );
  }
  return url;
}

const qualifiedTables = Object.values(schema as Record<string, unknown>)
  .filter((v): v is PgTable => isTable(v))
  .map((t) => {
    const c = getTableConfig(t);
    return `"${c.schema ?? 'public'}"."${c.name}"`;
  });

/** Empties every node table in one statement. */
export async function truncateStore(db: StoreDatabase): Promise<void> {
  await db.execute(sql.raw(`truncate table ${qualifiedTables.join(', ')} restart identity`));
}

const SETUP_TIMEOUT_MS = 120_000;

let skipNoticeShown = false;

/**
 * Declares `suite` once per available database, as `describe('<name> [pglite]')` and
 * `describe('<name> [postgres]')`. Without `DATABASE_URL` the PostgreSQL copy is skipped with a
 * visible notice, never silently.
 *
 * @example
 * describeStores('import', (h) => {
 *   beforeEach(() => h.reset());
 *   it('imports', async () => { await importCanonical(h.db, dir); });
 * });
 */
export function describeStores(name: string, suite: (harness: StoreHarness) => void): void {
  const pgUrl = postgresTestUrl();
  describeOne(`${name} [pglite]`, 'pglite', suite, async () => {
    const opened = await openStore(MEMORY_STORE);
    return { opened, target: MEMORY_STORE, cleanup: () => opened.close() };
  });
  if (pgUrl === undefined) {
    if (!skipNoticeShown) {
      skipNoticeShown = true;
      console.warn(
        'DATABASE_URL is not set: PostgreSQL store tests are skipped (PGlite ran). ' +
          'Set DATABASE_URL=postgres://… to run them.',
      );
    }
    describe.skip(`${name} [postgres] (DATABASE_URL not set)`, () => {
      suite(unavailableHarness());
    });
    return;
  }
  describeOne(`${name} [postgres]`, 'postgres', suite, async () => {
    const tmp = await createTemporaryDatabase(pgUrl);
    let opened: OpenedStore;
    try {
      opened = await openStore(tmp.url);
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

interface Fixture {
  opened: OpenedStore;
  target: string;
  cleanup(): Promise<void>;
}

function describeOne(
  title: string,
  kind: StoreKind,
  suite: (harness: StoreHarness) => void,
  setUp: () => Promise<Fixture>,
): void {
  describe(title, () => {
    let fixture: Fixture | undefined;
    // Starting PGlite and migrating takes seconds on a busy machine: more than vitest's default.
    beforeAll(async () => {
      fixture = await setUp();
    }, SETUP_TIMEOUT_MS);
    afterAll(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    }, SETUP_TIMEOUT_MS);
    const current = (): Fixture => {
      if (fixture === undefined) {
        throw new Error(`the ${kind} test database is only open inside hooks and tests`);
      }
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
      reset: () => truncateStore(current().opened.db),
    });
  });
}

function unavailableHarness(): StoreHarness {
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
