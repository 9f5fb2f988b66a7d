import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { isCoopNodeError } from '../errors';
import { openStore, redactStoreTarget } from './open';
import { resultRows } from './result';
import { identityKeys, modelVersions } from './schema';
import { describeStores } from './testing';

const journal = JSON.parse(
  readFileSync(new URL('../../drizzle/meta/_journal.json', import.meta.url), 'utf8'),
) as { entries: unknown[] };

describeStores('openStore', (h) => {
  it('creates the shop and coopfl schemas and records its migrations apart', async () => {
    const schemas = resultRows<{ n: string }>(
      await h.db.execute(
        sql`select nspname::text as n from pg_namespace where nspname in ('shop', 'coopfl') order by 1`,
      ),
    ).map((r) => r.n);
    expect(schemas).toEqual(['coopfl', 'shop']);
    const applied = resultRows<{ n: number }>(
      await h.db.execute(sql`select count(*)::int as n from drizzle.__coopfl_node_migrations`),
    );
    expect(Number(applied[0]?.n)).toBeGreaterThanOrEqual(1);
  });

  it.skipIf(h.kind !== 'postgres')(
    'lets several nodes open one PostgreSQL database at once (migrations under a lock)',
    async () => {
      const opened = await Promise.all([
        openStore(h.target),
        openStore(h.target),
        openStore(h.target),
      ]);
      try {
        const applied = resultRows<{ n: number }>(
          await h.db.execute(sql`select count(*)::int as n from drizzle.__coopfl_node_migrations`),
        );
        // Each migration of the journal applied exactly once, however many nodes raced.
        expect(Number(applied[0]?.n)).toBe(journal.entries.length);
      } finally {
        await Promise.all(opened.map((o) => o.close()));
      }
    },
  );

  it('round-trips bytea as Uint8Array', async () => {
    await h.reset();
    const weights = Uint8Array.from({ length: 4096 }, (_, i) => i % 251);
    await h.db
      .insert(modelVersions)
      .values({ modelId: 'demand', version: 1, source: 'coordinator', weights });
    await h.db
      .insert(identityKeys)
      .values({ purpose: 'customer_hash', secretKey: new Uint8Array(32) });
    const [row] = await h.db.select().from(modelVersions);
    expect(row?.weights).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(row!.weights).equals(Buffer.from(weights))).toBe(true);
  });
});

it('reopens a PGlite directory without re-running migrations, keeping data', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'coopfl-store-'));
  try {
    const first = await openStore(dir);
    await first.db
      .insert(identityKeys)
      .values({ purpose: 'signing', secretKey: new Uint8Array(64) });
    await first.close();
    const second = await openStore(dir);
    expect(await second.db.select({ p: identityKeys.purpose }).from(identityKeys)).toEqual([
      { p: 'signing' },
    ]);
    await second.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, 120_000);

it('refuses unsupported targets without echoing credentials', async () => {
  const err: unknown = await openStore('mysql://u:secret@h/db').catch((e: unknown) => e);
  expect(isCoopNodeError(err, 'InvalidConfig')).toBe(true);
  expect((err as Error).message).not.toContain('secret');
  expect(redactStoreTarget('postgres://u:pw@db:5432/x?password=pw')).toBe('postgres://db:5432/x');
  const unreachable: unknown = await openStore('postgres://u:pw@127.0.0.1:1/x').catch(
    (e: unknown) => e,
  );
  expect(isCoopNodeError(unreachable, 'DatabaseUnavailable')).toBe(true);
  expect((unreachable as Error).message).not.toContain('pw');
});
