import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeId, roundId } from '@coopfl/protocol';
import { asDelta, asEpsilon, asNoiseMultiplier } from '@coopfl/protocol/dp';
import { count, eq, isNull, sql, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isCoordinatorError } from '../errors';
import { openDatabase, redactTarget, type Database } from './open';
import {
  consent,
  invites,
  memberKeys,
  members,
  metrics,
  models,
  modelVersions,
  privacyLedger,
  requestNonces,
  roundParticipants,
  rounds,
  secaggEvents,
  sessions,
} from './schema';
import { dbErrorInfo, isReferenceViolation, SQLSTATE } from './sql-errors';
import { createTemporaryDatabase, describeDatabases, postgresTestUrl } from './testing';

const journal = JSON.parse(
  await readFile(new URL('../../drizzle/meta/_journal.json', import.meta.url), 'utf8'),
) as { entries: unknown[] };

async function rowCount(db: Database, table: PgTable, where?: SQL): Promise<number> {
  const [row] = await db.select({ n: count() }).from(table).where(where);
  return row?.n ?? 0;
}

async function appliedMigrations(db: Database): Promise<number> {
  const res: unknown = await db.execute(
    sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
  );
  // postgres.js returns the rows array itself, PGlite a result object with `rows`.
  const rows = (Array.isArray(res) ? res : (res as { rows: unknown[] }).rows) as { n: number }[];
  return Number(rows[0]?.n);
}

/** Expects `p` to fail with the given SQLSTATE(s) (and constraint, when given). */
async function expectSqlState(
  p: Promise<unknown>,
  code: string | readonly string[],
  constraint?: string,
) {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'the statement should have failed').toBeDefined();
  const info = dbErrorInfo(err);
  expect(typeof code === 'string' ? [code] : code).toContain(info?.code);
  if (constraint !== undefined) expect(info?.constraint).toBe(constraint);
}

/** A delete blocked by `ON DELETE RESTRICT`: 23001 on PostgreSQL 17+/PGlite, 23503 before. */
const RESTRICTED = [SQLSTATE.RestrictViolation, SQLSTATE.ForeignKeyViolation];

const shopA = nodeId('shop-a');
const shopB = nodeId('shop-b');
const r1 = roundId('r1');
const r2 = roundId('r2');

async function seed(db: Database) {
  await db.insert(members).values([
    { id: shopA, name: 'Shop A', status: 'approved' },
    { id: shopB, name: 'Shop B', status: 'pending' },
  ]);
  await db
    .insert(models)
    .values({ id: 'demand', name: 'Demand', kind: 'demand', dim: 4, config: {} });
  await db
    .insert(modelVersions)
    .values({ modelId: 'demand', version: 0, weights: new Uint8Array(16) });
  await db.insert(rounds).values([
    { id: r1, modelId: 'demand', kind: 'train', status: 'open', config: {}, baseVersion: 0 },
    { id: r2, modelId: 'demand', kind: 'eval', status: 'open', config: {}, baseVersion: 0 },
  ]);
}

describe('openDatabase', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'coopfl-db-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('applies migrations once to a PGlite directory and keeps data across reopen', async () => {
    const path = join(dir, 'nested', 'coordinator');
    const first = await openDatabase(path);
    expect(first.kind).toBe('pglite');
    expect(await appliedMigrations(first.db)).toBe(journal.entries.length);
    await first.db.insert(members).values({ id: shopA, name: 'Shop A', status: 'pending' });
    await first.close();
    await first.close(); // idempotent

    const second = await openDatabase(path);
    try {
      expect(await appliedMigrations(second.db)).toBe(journal.entries.length);
      const rows = await second.db.select().from(members);
      expect(rows.map((m) => m.id)).toEqual([shopA]);
    } finally {
      await second.close();
    }
  });

  it('rejects unknown URL schemes and names the target without credentials', async () => {
    const err: unknown = await openDatabase('mysql://root:hunter2@db/coop').catch(
      (e: unknown) => e,
    );
    expect(isCoordinatorError(err, 'InvalidConfig')).toBe(true);
    expect(String(err)).toContain('mysql://db/coop');
    expect(String(err)).not.toContain('hunter2');
  });

  it('reports an unreachable PostgreSQL without its password', async () => {
    // Port 1 on loopback refuses connections immediately.
    const err: unknown = await openDatabase('postgres://coop:hunter2@127.0.0.1:1/coop').catch(
      (e: unknown) => e,
    );
    expect(isCoordinatorError(err, 'DatabaseUnavailable')).toBe(true);
    expect(String(err)).toContain('postgres://127.0.0.1:1/coop');
    expect(String(err)).not.toContain('hunter2');
  });

  it('redacts user, password and query string', () => {
    expect(redactTarget('postgresql://u:p@h:5432/d?password=x&sslmode=require')).toBe(
      'postgresql://h:5432/d',
    );
    expect(redactTarget('./.coopfl/coordinator')).toBe('./.coopfl/coordinator');
  });
});

describe.runIf(postgresTestUrl() !== undefined)('openDatabase [postgres]', () => {
  it('lets coordinators that start together migrate a fresh database once', async () => {
    const tmp = await createTemporaryDatabase(postgresTestUrl() ?? '');
    try {
      const opened = await Promise.all([1, 2, 3].map(() => openDatabase(tmp.url)));
      try {
        for (const o of opened) {
          expect(o.kind).toBe('postgres');
          expect(await appliedMigrations(o.db)).toBe(journal.entries.length);
        }
      } finally {
        await Promise.all(opened.map((o) => o.close()));
      }
    } finally {
      await tmp.drop();
    }
  });
});

describeDatabases('coordinator schema', (h) => {
  beforeEach(async () => {
    await h.reset();
    await seed(h.db);
  });

  it.runIf(h.kind === 'postgres')('re-applying migrations on reopen is a no-op', async () => {
    const again = await openDatabase(h.target);
    try {
      expect(await appliedMigrations(again.db)).toBe(journal.entries.length);
      expect(await rowCount(again.db, members)).toBe(2);
    } finally {
      await again.close();
    }
  });

  it('round-trips bytea as a plain Uint8Array of the same bytes', async () => {
    const small = Uint8Array.from([0, 1, 2, 0x7f, 0x80, 0xfe, 0xff, 0]);
    const large = new Uint8Array(randomBytes(100_003)); // above Node's Buffer pool size
    await h.db.insert(modelVersions).values([
      { modelId: 'demand', version: 1, weights: small, optimizerState: large, roundId: r1 },
      { modelId: 'demand', version: 2, weights: new Uint8Array(0) },
    ]);
    const [v1] = await h.db.select().from(modelVersions).where(eq(modelVersions.version, 1));
    const [v2] = await h.db.select().from(modelVersions).where(eq(modelVersions.version, 2));
    for (const bytes of [v1?.weights, v1?.optimizerState, v2?.weights]) {
      expect(bytes).toBeInstanceOf(Uint8Array);
      expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype); // not a Buffer
    }
    expect(Array.from(v1?.weights ?? [])).toEqual(Array.from(small));
    expect(v1?.weights.buffer.byteLength).toBe(small.length); // no view into a shared pool
    expect(Buffer.compare(Buffer.from(v1?.optimizerState ?? []), Buffer.from(large))).toBe(0);
    expect(v2?.weights.length).toBe(0);
    expect(v2?.optimizerState).toBeNull();

    // bytea as a lookup key (session tokens are stored by hash).
    const tokenHash = new Uint8Array(randomBytes(32));
    await h.db.insert(sessions).values({
      tokenHash,
      subjectKind: 'member',
      subjectId: shopA,
      role: 'member',
      expiresAt: new Date(Date.now() + 60_000),
    });
    const [found] = await h.db.select().from(sessions).where(eq(sessions.tokenHash, tokenHash));
    expect(found?.subjectId).toBe(shopA);
    expect(found?.expiresAt).toBeInstanceOf(Date);
    expect(Array.from(found?.tokenHash ?? [])).toEqual(Array.from(tokenHash));
  });

  it('keeps timestamps, jsonb and doubles intact', async () => {
    const at = new Date('2026-03-04T05:06:07.891Z');
    await h.db
      .update(members)
      .set({ approvedAt: at, profile: { city: 'Lyon', tags: ['bio', 'vrac'], n: 3 } })
      .where(eq(members.id, shopA));
    const [m] = await h.db.select().from(members).where(eq(members.id, shopA));
    expect(m?.approvedAt?.toISOString()).toBe(at.toISOString());
    expect(m?.profile).toEqual({ city: 'Lyon', tags: ['bio', 'vrac'], n: 3 });
    expect(m?.createdAt).toBeInstanceOf(Date);

    const entry = {
      modelId: 'demand',
      memberId: shopA,
      roundId: r1,
      unit: 'member' as const,
      mechanism: 'gaussian',
      noiseMultiplier: asNoiseMultiplier(1.1),
      samplingRate: 0.1,
      steps: 1,
      epsilon: asEpsilon(0.123456789012345),
      delta: asDelta(1e-6),
    };
    await h.db.insert(privacyLedger).values(entry);
    const [row] = await h.db.select().from(privacyLedger);
    expect(row?.epsilon).toBe(entry.epsilon);
    expect(row?.delta).toBe(entry.delta);
    // One ledger row per (round, member, model): a resumed round cannot record twice.
    await expectSqlState(
      h.db.insert(privacyLedger).values(entry),
      SQLSTATE.UniqueViolation,
      'privacy_ledger_round_member_idx',
    );
  });

  it('allows at most one active key per member', async () => {
    const k1 = new Uint8Array(randomBytes(32));
    const k2 = new Uint8Array(randomBytes(32));
    await h.db.insert(memberKeys).values({ memberId: shopA, publicKey: k1 });
    await expectSqlState(
      h.db.insert(memberKeys).values({ memberId: shopA, publicKey: k2 }),
      SQLSTATE.UniqueViolation,
      'member_keys_one_active_idx',
    );
    // Rotation: revoke the old key, then the new one may be active.
    await h.db
      .update(memberKeys)
      .set({ revokedAt: new Date() })
      .where(eq(memberKeys.memberId, shopA));
    await h.db.insert(memberKeys).values({ memberId: shopA, publicKey: k2 });
    expect(await rowCount(h.db, memberKeys, isNull(memberKeys.revokedAt))).toBe(1);
    // Another member may have an active key, but not one already registered.
    await expectSqlState(
      h.db.insert(memberKeys).values({ memberId: shopB, publicKey: k1 }),
      SQLSTATE.UniqueViolation,
      'member_keys_public_key_idx',
    );
    await expectSqlState(
      h.db.insert(memberKeys).values({ memberId: shopB, publicKey: new Uint8Array(31) }),
      SQLSTATE.CheckViolation,
      'member_keys_public_key_length',
    );
  });

  it('gives each client index to one participant per round', async () => {
    await h.db.insert(roundParticipants).values({ roundId: r1, memberId: shopA, clientIndex: 1 });
    await expectSqlState(
      h.db.insert(roundParticipants).values({ roundId: r1, memberId: shopB, clientIndex: 1 }),
      SQLSTATE.UniqueViolation,
      'round_participants_round_client_index_key',
    );
    await h.db.insert(roundParticipants).values([
      { roundId: r1, memberId: shopB, clientIndex: 2 },
      { roundId: r2, memberId: shopB, clientIndex: 1 },
    ]);
    const rows = await h.db
      .select()
      .from(roundParticipants)
      .where(eq(roundParticipants.roundId, r1));
    expect(rows.map((p) => [p.memberId, p.clientIndex, p.status])).toEqual([
      [shopA, 1, 'selected'],
      [shopB, 2, 'selected'],
    ]);
  });

  it('enforces closed value sets with CHECK constraints', async () => {
    await expectSqlState(
      h.db.execute(sql`update ${rounds} set status = 'paused' where id = ${r1}`),
      SQLSTATE.CheckViolation,
      'rounds_status_check',
    );
    await expectSqlState(
      h.db.execute(sql`insert into ${members} (id, name, status) values ('x', 'X', 'banned')`),
      SQLSTATE.CheckViolation,
      'members_status_check',
    );
  });

  it('rejects dangling references', async () => {
    await expectSqlState(
      h.db.insert(roundParticipants).values({
        roundId: r1,
        memberId: nodeId('nobody'),
        clientIndex: 9,
      }),
      SQLSTATE.ForeignKeyViolation,
    );
    await expectSqlState(
      h.db.insert(rounds).values({
        id: roundId('r3'),
        modelId: 'demand',
        kind: 'train',
        status: 'open',
        config: {},
        baseVersion: 7, // no such model version
      }),
      SQLSTATE.ForeignKeyViolation,
      'rounds_base_version_fk',
    );
  });

  it("deletes a member's keys, nonces and consent with it and unlinks its invites", async () => {
    await h.db.insert(memberKeys).values({ memberId: shopB, publicKey: new Uint8Array(32) });
    await h.db
      .insert(requestNonces)
      .values({ memberId: shopB, nonce: 'n1', expiresAt: new Date(Date.now() + 60_000) });
    await h.db.insert(consent).values({ memberId: shopB, settings: { demand: true } });
    await h.db.insert(invites).values({
      tokenHash: new Uint8Array(32),
      createdBy: 'admin',
      expiresAt: new Date(Date.now() + 60_000),
      usedAt: new Date(),
      memberId: shopB,
    });
    await h.db.delete(members).where(eq(members.id, shopB));
    expect(await rowCount(h.db, memberKeys)).toBe(0);
    expect(await rowCount(h.db, requestNonces)).toBe(0);
    expect(await rowCount(h.db, consent)).toBe(0);
    const [invite] = await h.db.select().from(invites);
    expect(invite?.memberId).toBeNull();
  });

  it('never deletes privacy spent or participation with the member, model or round', async () => {
    await h.db.insert(privacyLedger).values({
      modelId: 'demand',
      memberId: shopA,
      roundId: r1,
      unit: 'member',
      mechanism: 'gaussian',
      noiseMultiplier: asNoiseMultiplier(1),
      samplingRate: 1,
      steps: 1,
      epsilon: asEpsilon(0.5),
      delta: asDelta(1e-5),
    });
    await expectSqlState(h.db.delete(members).where(eq(members.id, shopA)), RESTRICTED);
    await expectSqlState(h.db.delete(rounds).where(eq(rounds.id, r1)), RESTRICTED);
    await expectSqlState(h.db.delete(models).where(eq(models.id, 'demand')), RESTRICTED);
    expect(await rowCount(h.db, privacyLedger)).toBe(1);
    expect(
      isReferenceViolation(
        await h.db
          .delete(members)
          .where(eq(members.id, shopA))
          .catch((e: unknown) => e),
      ),
    ).toBe(true);

    await h.db.insert(roundParticipants).values({ roundId: r2, memberId: shopB, clientIndex: 0 });
    await expectSqlState(h.db.delete(members).where(eq(members.id, shopB)), RESTRICTED);
  });

  it("deletes a round's participants, events and metrics with it", async () => {
    await h.db.insert(roundParticipants).values({ roundId: r2, memberId: shopA, clientIndex: 0 });
    await h.db.insert(secaggEvents).values([
      {
        roundId: r2,
        seq: 0,
        kind: 'message',
        stage: 'advertise',
        clientIndex: 0,
        payload: new Uint8Array([1]),
      },
      { roundId: r2, seq: 1, kind: 'deadline', stage: 'advertise' },
    ]);
    await h.db
      .insert(metrics)
      .values({ roundId: r2, modelId: 'demand', name: 'wape', value: 0.3, count: 5 });
    await h.db
      .insert(modelVersions)
      .values({ modelId: 'demand', version: 1, weights: new Uint8Array(16), roundId: r2 });
    await h.db.update(rounds).set({ resultVersion: 1, status: 'done' }).where(eq(rounds.id, r2));
    // The event log is append-only by (round, seq): a duplicate sequence number is refused.
    await expectSqlState(
      h.db.insert(secaggEvents).values({ roundId: r2, seq: 1, kind: 'deadline', stage: 'x' }),
      SQLSTATE.UniqueViolation,
    );

    await h.db.delete(rounds).where(eq(rounds.id, r2));
    expect(await rowCount(h.db, roundParticipants)).toBe(0);
    expect(await rowCount(h.db, secaggEvents)).toBe(0);
    expect(await rowCount(h.db, metrics)).toBe(0);
    const [v1] = await h.db.select().from(modelVersions).where(eq(modelVersions.version, 1));
    expect(v1?.roundId).toBeNull(); // the model version outlives its round

    // A model without privacy spent can be deleted with its versions and rounds.
    await h.db.delete(models).where(eq(models.id, 'demand'));
    expect(await rowCount(h.db, modelVersions)).toBe(0);
    expect(await rowCount(h.db, rounds)).toBe(0);
  });

  it('leaves no rows behind when a transaction fails', async () => {
    const before = await rowCount(h.db, roundParticipants);
    const beforeEvents = await rowCount(h.db, secaggEvents);
    await expectSqlState(
      h.db.transaction(async (tx) => {
        await tx
          .insert(secaggEvents)
          .values({ roundId: r1, seq: 0, kind: 'deadline', stage: 'open' });
        await tx.insert(roundParticipants).values({ roundId: r1, memberId: shopA, clientIndex: 0 });
        await tx.insert(roundParticipants).values({ roundId: r1, memberId: shopB, clientIndex: 0 });
      }),
      SQLSTATE.UniqueViolation,
    );
    expect(await rowCount(h.db, roundParticipants)).toBe(before);
    expect(await rowCount(h.db, secaggEvents)).toBe(beforeEvents);

    // An explicit rollback also leaves nothing, and the connection stays usable.
    await expect(
      h.db.transaction(async (tx) => {
        await tx.insert(roundParticipants).values({ roundId: r1, memberId: shopA, clientIndex: 0 });
        tx.rollback();
      }),
    ).rejects.toThrow();
    expect(await rowCount(h.db, roundParticipants)).toBe(before);
    await h.db.insert(roundParticipants).values({ roundId: r1, memberId: shopA, clientIndex: 0 });
    expect(await rowCount(h.db, roundParticipants)).toBe(before + 1);
  });
});
