import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cryptoReady } from '@coopfl/protocol';
import type { ModelKind } from '@coopfl/protocol/models';
import type { RunningCoordinator } from '@coopfl/coordinator';
import { loadConfig, startCoordinator } from '@coopfl/coordinator';
import type { AdminClient } from '@coopfl/coordinator/client';
import { loginAdmin } from '@coopfl/coordinator/client';
import { MODEL_RUNTIMES } from '../models';
import type { ModelRuntime } from '../models/types';
import { initTf } from '../tf/backend';
import type { TestNode } from './testing';
import {
  ADMIN,
  dropTestNode,
  smallCooperative,
  smallModelConfig,
  storeIdsOf,
  testCoordinator,
  testNode,
  waitForEvent,
  waitForRound,
} from './testing';

/**
 * A coordinator that goes away mid-run: nodes keep retrying with backoff (never crash), keep
 * their local consent, and carry on — re-syncing consent and completing rounds — once a
 * coordinator is back on the same database.
 */
const runtimes = MODEL_RUNTIMES as Partial<Record<ModelKind, ModelRuntime>>;
let tmp: string;
let running: RunningCoordinator | undefined;
let admin: AdminClient;
const nodes: TestNode[] = [];
const ctl = new AbortController();
let loops: Promise<unknown>[] = [];

beforeAll(async () => {
  await cryptoReady();
  await initTf({ log: () => undefined });
  tmp = await mkdtemp(join(tmpdir(), 'coopfl-restart-'));
  ({ running, admin } = await testCoordinator(join(tmp, 'coord-db'), join(tmp, 'coord.key')));
  const tables = smallCooperative({ customersPerShop: 100, days: 200 });
  for (const storeId of storeIdsOf(tables).slice(0, 2)) {
    nodes.push(await testNode(running, admin, tables, storeId, { runtimes }));
  }
  await admin.models.create.mutate({
    id: 'fraud',
    kind: 'fraud',
    config: smallModelConfig('fraud'),
  });
  loops = nodes.map((t) =>
    t.node.run({
      signal: ctl.signal,
      pollMs: 150,
      initialBackoffMs: 100,
      maxBackoffMs: 800,
      channelPollMs: 1_000,
      onEvent: (e) => t.events.push(e),
    }),
  );
}, 120_000);

afterAll(async () => {
  ctl.abort();
  await Promise.allSettled(loops);
  for (const t of nodes) await dropTestNode(t);
  await running?.close();
  await rm(tmp, { recursive: true, force: true });
}, 60_000);

describe('coordinator down mid-run', () => {
  it('nodes back off while it is gone and complete a round once it is back', async () => {
    const [a] = nodes as [TestNode, TestNode];
    await waitForEvent(a.events, (e) => e.type === 'poll');
    const port = Number(new URL(running!.url).port);
    await running!.close();
    running = undefined;

    for (const t of nodes) {
      await waitForEvent(t.events, (e) => e.type === 'retry' && e.attempt >= 3, 30_000);
    }
    const retries = a.events.filter((e) => e.type === 'retry');
    // Exponential backoff, capped at maxBackoffMs (jittered within [d/2, d)).
    expect(retries.every((e) => e.type === 'retry' && e.delayMs <= 800)).toBe(true);
    expect(retries.some((e) => e.type === 'retry' && e.delayMs >= 200)).toBe(true);

    // Consent set while the coordinator is away stands locally and is synced later.
    const set = await a.node.consent.set({ models: ['fraud', 'demand'] });
    expect(set.synced).toBe(false);
    expect(set.syncError).toBeDefined();
    expect((await a.node.consent.get()).consent.models).toEqual(['fraud', 'demand']);
    expect((await a.node.status()).membership).toBe('unreachable');

    running = await startCoordinator(
      loadConfig(
        {
          db: join(tmp, 'coord-db'),
          keyFile: join(tmp, 'coord.key'),
          port,
          logLevel: 'silent',
        },
        {},
      ),
    );
    ({ client: admin } = await loginAdmin(running.url, ADMIN.username, ADMIN.password));
    for (const t of nodes) {
      await waitForEvent(t.events, (e) => e.type === 'reconnected', 30_000);
    }
    await waitForEvent(a.events, (e) => e.type === 'consent-synced', 30_000);
    expect((await a.node.consent.get()).synced).toBe(true);

    const { roundId } = await admin.rounds.start.mutate({ modelId: 'fraud' });
    const done = await waitForRound(admin, roundId);
    expect(done.status, done.error ?? '').toBe('done');
    for (const t of nodes) {
      await waitForEvent(t.events, (e) => e.type === 'model-stored' && e.version === 1);
      expect((await t.node.status()).membership).toBe('approved');
    }
  }, 180_000);
});
