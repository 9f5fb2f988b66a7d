import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelKind } from '@coopfl/protocol/models';
import { defaultArchitecture } from '@coopfl/protocol/models';
import { KPI_IDS } from '@coopfl/protocol/benchmarks';
import type { RunningCoordinator } from '@coopfl/coordinator';
import { createAdmin, loadConfig, startCoordinator } from '@coopfl/coordinator';
import type { AdminClient } from '@coopfl/coordinator/client';
import { loginAdmin } from '@coopfl/coordinator/client';
import { importCanonical } from '../import';
import type { OpenedStore } from '../store/open';
import { MEMORY_STORE, openStore } from '../store/open';
import type { CooperativeTables, SynthOptionsInput } from '../synth';
import { generateCooperative, shopTables, writeCooperative } from '../synth';
import { storeIdsOf } from '../synth';
export { shopTables, storeIdsOf } from '../synth';
import type { NodeEvent } from './events';
import type { NodeHandle, OpenNodeOptions } from './member';
import { initNode, openNode } from './member';

/**
 * Test helpers for the runtime: an in-process coordinator with an admin, and member nodes each
 * holding one synthetic shop in its own PGlite store, joined over real HTTP. Tests only.
 */

export const ADMIN = { username: 'root', password: 'correct horse battery' };

/** Starts a coordinator on 127.0.0.1 (free port) and logs an admin in. */
export async function testCoordinator(
  db = 'memory://',
  keyFile = 'memory',
): Promise<{ running: RunningCoordinator; admin: AdminClient }> {
  const running = await startCoordinator(
    loadConfig({ db, port: 0, keyFile, logLevel: 'silent' }, {}),
  );
  await createAdmin(running.ctx, ADMIN).catch(() => undefined);
  const { client: admin } = await loginAdmin(running.url, ADMIN.username, ADMIN.password);
  return { running, admin };
}

/** A small seeded cooperative (one shop per node). */
export function smallCooperative(opts: SynthOptionsInput = {}): CooperativeTables {
  return generateCooperative({
    shops: 3,
    seed: 11,
    days: 300,
    customersPerShop: 150,
    catalogSize: 40,
    categories: 5,
    fraudRate: [0.05, 0.08],
    ...opts,
  });
}

/** A joined, approved node with its shop's data imported, plus its temp directory. */
export interface TestNode {
  readonly node: NodeHandle;
  /** The node's in-memory database (kept open across init and open). */
  readonly store: OpenedStore;
  readonly dir: string;
  readonly storeId: string;
  readonly events: NodeEvent[];
}

/**
 * Creates a node in a temp directory: init with a fresh invite, admin approval, import of the
 * shop's rows (canonical CSV → its own PGlite store), then open.
 */
export async function testNode(
  running: Pick<RunningCoordinator, 'url'>,
  admin: AdminClient,
  tables: CooperativeTables,
  storeId: string,
  opts: OpenNodeOptions & { approve?: boolean } = {},
): Promise<TestNode> {
  const dir = await mkdtemp(join(tmpdir(), 'coopfl-node-'));
  const { invite } = await admin.invites.create.mutate({});
  // An in-memory store kept open across init and open: PGlite directories are slow to create.
  const store = await openStore(MEMORY_STORE);
  const joined = await initNode({
    dir,
    coordinatorUrl: running.url,
    invite,
    name: `Shop ${storeId}`,
    storeDb: MEMORY_STORE,
    store,
  });
  if (opts.approve !== false) await admin.members.approve.mutate({ memberId: joined.memberId });
  const node = await openNode(dir, { ...opts, store });
  const csv = join(dir, 'csv');
  await writeCooperative(csv, shopTables(tables, storeId));
  await importCanonical(node.db, csv);
  return { node, store, dir, storeId, events: [] };
}

/** One test node per shop of `tables`, each consenting to share every benchmark KPI. */
export async function benchmarkNodes(
  running: Pick<RunningCoordinator, 'url'>,
  admin: AdminClient,
  tables: CooperativeTables,
): Promise<TestNode[]> {
  const nodes: TestNode[] = [];
  for (const storeId of storeIdsOf(tables)) {
    const t = await testNode(running, admin, tables, storeId);
    await t.node.consent.set({ kpis: [...KPI_IDS] });
    nodes.push(t);
  }
  return nodes;
}

/** Closes a test node and removes its directory. */
export async function dropTestNode(t: TestNode | undefined): Promise<void> {
  if (!t) return;
  await t.node.close().catch(() => undefined);
  await t.store.close().catch(() => undefined);
  await rm(t.dir, { recursive: true, force: true });
}

/**
 * Small networks and one epoch, so a round of each model takes seconds on a loaded machine.
 */
export function smallModelConfig(kind: ModelKind, extra: Record<string, unknown> = {}) {
  const arch =
    kind === 'recommendation'
      ? defaultArchitecture(kind, { vocab: 512, hidden: 16, embeddingDim: 8 })
      : defaultArchitecture(kind, { hidden: 16 });
  return {
    architecture: arch,
    training: { epochs: 1, learningRate: 0.01, batchSize: 64, mu: 0.01 },
    stageTimeoutMs: 10_000,
    ...extra,
  };
}

/** Waits until a round is released (done or failed). */
export async function waitForRound(admin: AdminClient, roundId: string, timeoutMs = 90_000) {
  const start = Date.now();
  for (;;) {
    const r = await admin.rounds.get.query({ roundId });
    if (r.status === 'done' || r.status === 'failed') return r;
    if (Date.now() - start > timeoutMs) {
      throw new Error(`round ${roundId} still ${r.status} after ${timeoutMs} ms`);
    }
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** Waits until `pred` holds for an event of the node (or fails after `timeoutMs`). */
export async function waitForEvent(
  events: readonly NodeEvent[],
  pred: (e: NodeEvent) => boolean,
  timeoutMs = 60_000,
): Promise<NodeEvent> {
  const start = Date.now();
  for (;;) {
    const hit = events.find(pred);
    if (hit) return hit;
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting for a node event');
    await new Promise((res) => setTimeout(res, 50));
  }
}
