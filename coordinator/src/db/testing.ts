import { getTableName, isTable, sql, type Table } from 'drizzle-orm';
import { afterAll, beforeAll, describe } from 'vitest';
import { CoordinatorError } from '../errors';
import {
  MEMORY_DATABASE,
  openDatabase,
  redactTarget,
  type Database,
  type DatabaseKind,
  type OpenedDatabase,
} from './open';
import * as schema from './schema';
import { createTemporaryDatabase } from '@coopfl/storage';
export { createTemporaryDatabase };

/**
 * Storage conformance harness (CONVENTIONS §11): one suite, run against every database we
 * support. PGlite (in memory) always runs; PostgreSQL runs when `DATABASE_URL` is set, each test
 * file in a fresh temporary database that is dropped afterwards, so parallel files never collide.
 */

/** What a suite sees of the database it runs against. Read `db` inside hooks and tests only. */
export interface DatabaseHarness {
  readonly kind: DatabaseKind;
  /** Where the database is: `memory://` or the temporary database's URL (may hold credentials). */
  readonly target: string;
  readonly db: Database;
  /** Empties every coordinator table and restarts their sequences. */
  reset(): Promise<void>;
}

/** A PostgreSQL database created for one test file. */
export type { TemporaryDatabase } from '@coopfl/storage';

/** `DATABASE_URL`, validated; `undefined` when unset or empty. */
export function postgresTestUrl(): string | undefined {
  const url = process.env['DATABASE_URL'];
  if (url === undefined || url.trim() === '') return undefined;
  if (!/^postgres(ql)?:\/\//i.test(url)) {
    throw new CoordinatorError(
      'InvalidConfig',
      `DATABASE_URL must be a postgres:// or postgresql:// URL, got "${redactTarget(url)}"`,
    );
  }
  return url;
}

const tableNames = Object.values(schema as Record<string, unknown>)
  .filter((v): v is Table => isTable(v))
  .map((t) => `"${getTableName(t)}"`);

/** Empties every coordinator table in one statement (foreign keys permitting) and resets ids. */
export async function truncateAll(db: Database): Promise<void> {
  await db.execute(sql.raw(`truncate table ${tableNames.join(', ')} restart identity cascade`));
}

let skipNoticeShown = false;

/**
 * Declares `suite` once per available database, as `describe('<name> [pglite]')` and
 * `describe('<name> [postgres]')`. Without `DATABASE_URL` the PostgreSQL copy is skipped with a
 * visible notice, never silently.
 *
 * @example
 * describeDatabases('members', (h) => {
 *   beforeEach(() => h.reset());
 *   it('stores a member', async () => {
 *     await h.db.insert(members).values({ id: nodeId('shop-a'), name: 'A', status: 'pending' });
 *   });
 * });
 */
export function describeDatabases(name: string, suite: (harness: DatabaseHarness) => void): void {
  const pgUrl = postgresTestUrl();
  describeOne(
    `${name} [pglite]`,
    'pglite',
    async () => {
      const opened = await openDatabase(MEMORY_DATABASE);
      return { opened, target: MEMORY_DATABASE, cleanup: () => opened.close() };
    },
    suite,
  );
  if (pgUrl === undefined) {
    if (!skipNoticeShown) {
      skipNoticeShown = true;
      console.warn(
        'DATABASE_URL is not set: PostgreSQL storage tests are skipped (PGlite ran). ' +
          'Set DATABASE_URL=postgres://… to run them.',
      );
    }
    describe.skip(`${name} [postgres] (DATABASE_URL not set)`, () => {
      suite(unavailableHarness('postgres'));
    });
    return;
  }
  describeOne(
    `${name} [postgres]`,
    'postgres',
    async () => {
      const tmp = await createTemporaryDatabase(pgUrl);
      let opened: OpenedDatabase;
      try {
        opened = await openDatabase(tmp.url);
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
    },
    suite,
  );
}

interface Fixture {
  opened: OpenedDatabase;
  target: string;
  cleanup(): Promise<void>;
}

function describeOne(
  title: string,
  kind: DatabaseKind,
  setUp: () => Promise<Fixture>,
  suite: (harness: DatabaseHarness) => void,
): void {
  describe(title, () => {
    let fixture: Fixture | undefined;
    beforeAll(async () => {
      fixture = await setUp();
    });
    afterAll(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });
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
      reset: () => truncateAll(current().opened.db),
    });
  });
}

function unavailableHarness(kind: DatabaseKind): DatabaseHarness {
  const fail = (): never => {
    throw new Error(`the ${kind} test database is not available`);
  };
  return {
    kind,
    get target() {
      return fail();
    },
    get db() {
      return fail();
    },
    reset: () => Promise.reject(new Error(`the ${kind} test database is not available`)),
  };
}
