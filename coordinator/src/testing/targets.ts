import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { count, getTableName, isTable } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { afterAll, describe } from 'vitest';
import type { Database } from '../db';
import * as schema from '../db/schema';
import { createTemporaryDatabase, postgresTestUrl } from '../db/testing';

/**
 * Runs a suite once per database kind with persistent targets (a PGlite directory, a temporary
 * PostgreSQL database), so a coordinator can be stopped and started on the same data.
 * Without DATABASE_URL the PostgreSQL copy is skipped with a visible notice.
 */
export function describeTargets(name: string, suite: (fresh: () => Promise<string>) => void): void {
  const kinds: ('pglite' | 'postgres')[] = ['pglite'];
  const pg = postgresTestUrl();
  if (pg) kinds.push('postgres');
  else console.warn(`DATABASE_URL is not set: "${name}" runs on PGlite only (PostgreSQL skipped).`);
  for (const kind of kinds) {
    describe(`${name} [${kind}]`, () => {
      const cleanups: (() => Promise<void>)[] = [];
      afterAll(async () => {
        for (const c of cleanups) await c();
      });
      suite(async () => {
        if (kind === 'pglite') {
          const dir = await mkdtemp(join(tmpdir(), 'coopfl-coord-'));
          cleanups.push(() => rm(dir, { recursive: true, force: true }));
          return join(dir, 'db');
        }
        const tmp = await createTemporaryDatabase(pg!);
        cleanups.push(() => tmp.drop());
        return tmp.url;
      });
    });
  }
}

const TABLES = (Object.values(schema) as unknown[]).filter((t): t is PgTable => isTable(t));

/** Row counts of every coordinator table, to show that refused input changed nothing stored. */
export async function rowCounts(db: Database): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of TABLES) {
    const [r] = await db.select({ c: count() }).from(t);
    out[getTableName(t)] = Number(r!.c);
  }
  return out;
}
