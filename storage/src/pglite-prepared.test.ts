import { PGlite, types } from '@electric-sql/pglite';
import type { QueryOptions } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preparedPglite } from './pglite-prepared';

const BYTEA = 17;
const bytea = {
  serializers: {
    [BYTEA]: (v: unknown) => `\\x${Buffer.from(v as Uint8Array).toString('hex')}`,
  },
  parsers: { [BYTEA]: (t: string) => new Uint8Array(Buffer.from(t.slice(2), 'hex')) },
};

describe('preparedPglite', () => {
  let raw: PGlite;
  let db: PGlite;
  const prepared = async () =>
    (
      await raw.query<{ n: number }>(
        `select count(*)::int as n from pg_prepared_statements where name like 'coopfl_s%'`,
      )
    ).rows[0]!.n;

  beforeAll(async () => {
    raw = await PGlite.create(undefined, bytea);
    await raw.exec(`
      create table t (id int primary key, name text not null, at timestamptz, data jsonb,
        blob bytea, tags text[], amount numeric);
    `);
    db = preparedPglite(raw, { maxStatements: 4 });
  }, 60_000);
  afterAll(() => raw.close());

  it("returns what PGlite's own query returns, for every row mode and type", async () => {
    const insert =
      'insert into t (id, name, at, data, blob, tags, amount) values ($1, $2, $3, $4, $5, $6, $7) returning id, name';
    const row = (id: number) => [
      id,
      `n${id}`,
      '2026-01-02T03:04:05.000Z',
      { a: [1, 2], b: null },
      new Uint8Array([0, 1, 254, 255]),
      ['x', 'y,z'],
      '12.50',
    ];
    const ours = await db.query(insert, row(1));
    const theirs = await raw.query(insert, row(2));
    expect({ ...ours, rows: [] }).toEqual({ ...theirs, rows: [] });
    expect(ours.rows).toEqual([{ id: 1, name: 'n1' }]);
    await db.query(`insert into t (id, name) values ($1, $2)`, [3, 'no extras']);

    // Drizzle's options: array rows, timestamps left as text, per-query parsers over the client's.
    const drizzleLike: QueryOptions = {
      rowMode: 'array',
      parsers: { [types.TIMESTAMPTZ]: (v: string) => v, [types.NUMERIC]: (v: string) => v },
    };
    for (const options of [undefined, drizzleLike]) {
      const select = 'select * from t where id = any($1::int[]) order by id';
      const a = await db.query(select, [[1, 2, 3]], options);
      const b = await raw.query(select, [[1, 2, 3]], options);
      expect(a).toEqual(b);
    }
    const update = await db.query('update t set name = name || $1 where id > $2', ['!', 0]);
    expect(update).toMatchObject({ affectedRows: 3, command: 'UPDATE', rowCount: 3, rows: [] });
  });

  it('bytea parameters keep every byte, from views into larger buffers too', async () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const view = Buffer.concat([Buffer.from([9]), all, Buffer.from([9])]).subarray(1, 256);
    for (const [id, bytes] of [
      [400, all],
      [401, new Uint8Array(0)],
      [402, view],
    ] as const) {
      await db.query('insert into t (id, name, blob) values ($1, $2, $3)', [id, 'b', bytes]);
      const { rows } = await raw.query<{ blob: Uint8Array }>('select blob from t where id = $1', [
        id,
      ]);
      expect(Array.from(rows[0]!.blob)).toEqual(Array.from(bytes));
    }
  });

  it('prepares each text once and closes the least recently used beyond the bound', async () => {
    const texts = [1, 2, 3, 4, 5, 6].map((i) => `select $1::int + ${i} as v`);
    for (const [i, text] of texts.entries()) {
      expect((await db.query<{ v: number }>(text, [10])).rows[0]!.v).toBe(11 + i);
    }
    expect(await prepared()).toBe(4);
    // The evicted first statement is prepared again; all still answer correctly.
    for (const [i, text] of texts.entries()) {
      expect((await db.query<{ v: number }>(text, [20])).rows[0]!.v).toBe(21 + i);
    }
    expect(await prepared()).toBe(4);
  });

  it('database errors keep their SQLSTATE, and the connection goes on', async () => {
    const insert = 'insert into t (id, name) values ($1, $2)';
    await db.query(insert, [100, 'a']);
    const err = await db.query(insert, [100, 'b']).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: '23505', constraint: 't_pkey', query: insert });
    await expect(db.query('select nonsense from', [])).rejects.toMatchObject({ code: '42601' });
    expect((await db.query('select name from t where id = $1', [100])).rows).toEqual([
      { name: 'a' },
    ]);
  });

  it('transactions: statements share them, roll back together, and others wait', async () => {
    const insert = 'insert into t (id, name) values ($1, $2)';
    let release!: () => void;
    let started!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const open = new Promise<void>((r) => (started = r));
    const tx = db.transaction(async (t) => {
      await t.query(insert, [200, 'in tx']);
      started();
      await held;
      await t.query(insert, [201, 'in tx']);
    });
    await open;
    // Issued while the transaction is open: runs after its commit and sees both rows.
    const outside = db.query<{ n: number }>(
      'select count(*)::int as n from t where id in (200, 201)',
    );
    await new Promise((r) => setTimeout(r, 20));
    release();
    await tx;
    expect((await outside).rows[0]!.n).toBe(2);

    await expect(
      db.transaction(async (t) => {
        await t.query(insert, [300, 'rolled back']);
        await t.query(insert, [300, 'duplicate']);
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect((await db.query('select id from t where id = $1', [300])).rows).toEqual([]);
  });

  it('a statement the server dropped is prepared again', async () => {
    const text = 'select $1::text as s';
    expect((await db.query(text, ['x'])).rows).toEqual([{ s: 'x' }]);
    await db.transaction((t) => t.query(text, ['x']));
    await raw.exec('deallocate all');
    // Outside a transaction nothing was aborted: it is prepared again and run.
    expect((await db.query(text, ['y'])).rows).toEqual([{ s: 'y' }]);
    await raw.exec('deallocate all');
    // Inside one, the failure aborted the transaction: it fails once, then works again.
    await expect(db.transaction((t) => t.query(text, ['z']))).rejects.toMatchObject({
      code: '26000',
    });
    expect((await db.transaction((t) => t.query(text, ['z']))).rows).toEqual([{ s: 'z' }]);
  });
});
