import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { preparedStatements } from './prepared';
import { postgresTestUrl } from './testing';

const url = postgresTestUrl();
if (!url)
  console.warn('[coopfl] DATABASE_URL unset: prepared-statement tests on PostgreSQL skipped');

/** Statements prepared on the connection that runs this query, matching `marker`. */
const preparedOnThisConnection = (marker: string) =>
  sql`select count(*)::int as n from pg_prepared_statements where statement like ${`%${marker}%`} and statement not like '%pg_prepared_statements%'`;

describe.skipIf(!url)('preparedStatements [postgres]', () => {
  const clients: postgres.Sql[] = [];
  const open = (wrap: boolean) => {
    const client = postgres(url!, { max: 1, onnotice: () => {} });
    clients.push(client);
    return drizzle({ client: wrap ? preparedStatements(client) : client });
  };
  afterAll(async () => {
    for (const c of clients) await c.end({ timeout: 5 });
  });

  const count = async (db: ReturnType<typeof open>, marker: string) => {
    const rows = await db.execute<{ n: number }>(preparedOnThisConnection(marker));
    return rows[0]!.n;
  };

  it('runs drizzle queries as named statements, once per connection', async () => {
    const db = open(true);
    for (const x of [1, 2, 3]) {
      const rows = await db.execute<{ y: number }>(sql`select ${x}::int + 1 as y /* m1 */`);
      expect(rows[0]!.y).toBe(x + 1);
    }
    expect(await count(db, 'm1')).toBe(1);
  });

  it('inside transactions and savepoints too', async () => {
    const db = open(true);
    await db.transaction(async (tx) => {
      await tx.execute(sql`select ${1}::int as v /* m2 */`);
      await tx.transaction(async (inner) => {
        await inner.execute(sql`select ${2}::int as v /* m3 */`);
      });
      const rows = await tx.execute<{ n: number }>(preparedOnThisConnection('/* m'));
      expect(rows[0]!.n).toBe(2);
    });
  });

  it("without it drizzle's statements are unnamed (what the wrapper exists for)", async () => {
    const db = open(false);
    await db.execute(sql`select ${1}::int as v /* m4 */`);
    expect(await count(db, 'm4')).toBe(0);
  });
});
