import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '@coopfl/protocol';
import type { ModelKind } from '@coopfl/protocol/models';
import type { RunningCoordinator } from '@coopfl/coordinator';
import { createAdmin, loadConfig, startCoordinator } from '@coopfl/coordinator';
import type { AdminClient } from '@coopfl/coordinator/client';
import { loginAdmin } from '@coopfl/coordinator/client';
import { importCanonical } from '@coopfl/node/import';
import type { ModelRuntime } from '@coopfl/node/models';
import type { NodeEvent, NodeHandle } from '@coopfl/node/runtime';
import { initNode, openNode } from '@coopfl/node/runtime';
import type { OpenedStore } from '@coopfl/node/store';
import { MEMORY_STORE, openStore } from '@coopfl/node/store';
import { ReseedableRandom, deriveSeed } from './random';
import type { ShopData } from './shops';

const ADMIN = { username: 'sim', password: 'coopfl simulator admin' };

/**
 * Calls the coordinator again when a request got no answer at all (`fetch failed`: typically a
 * keep-alive socket the server closed just as it was reused, after a long CPU-bound step of the
 * simulator). An answer of any status is final. Only for the simulator's own admin calls; the
 * nodes use their own retry policy.
 */
export async function retryUnanswered<T>(call: () => Promise<T>, attempts = 4): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await call();
    } catch (err) {
      const e = err as { data?: unknown; message?: unknown; cause?: unknown };
      const unanswered =
        e.data === undefined &&
        (String(e.message).includes('fetch failed') || String(e.cause).includes('ECONNRESET'));
      if (!unanswered || i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 200 * i));
    }
  }
}

/** One member node of the simulated cooperative, holding one shop in its own in-memory store. */
export interface SimNode {
  readonly index: number;
  readonly shop: ShopData;
  readonly node: NodeHandle;
  /** Re-seeded by the simulator before each round (reproducible shuffles and SecAgg draws). */
  readonly random: ReseedableRandom;
  /** The node's model runtimes, with data preparation cached (see {@link cachedPrepare}). */
  readonly runtimes: Partial<Record<ModelKind, ModelRuntime>>;
  readonly events: NodeEvent[];
}

/** JSON with object keys sorted (an architecture read back from jsonb has its keys reordered). */
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * The same runtimes with `prepare` memoized per (kind, options). The simulator runs each node's
 * client loop once per round (`run({ once: true })`), and each run starts with an empty prepared
 * data cache; a continuously running node keeps its prepared data for an hour, so this restores
 * that behaviour, and lets the simulator evaluate on exactly the data the node trains on.
 */
export function cachedPrepare(
  runtimes: Partial<Record<ModelKind, ModelRuntime>>,
): Partial<Record<ModelKind, ModelRuntime>> {
  const out: Partial<Record<ModelKind, ModelRuntime>> = {};
  for (const [kind, rt] of Object.entries(runtimes) as [ModelKind, ModelRuntime][]) {
    const cache = new Map<string, ReturnType<ModelRuntime['prepare']>>();
    out[kind] = {
      ...rt,
      prepare: (source, opts) => {
        const key = stableJson(opts);
        let hit = cache.get(key);
        if (!hit) {
          hit = rt.prepare(source, opts);
          cache.set(key, hit);
          hit.catch(() => cache.delete(key));
        }
        return hit;
      },
    };
  }
  return out;
}

/** A running cooperative: a real coordinator and real nodes over HTTP on 127.0.0.1. */
export interface SimCooperative {
  readonly coordinator: RunningCoordinator;
  readonly admin: AdminClient;
  /** The admin's session token (for the weights endpoint). */
  readonly token: string;
  readonly nodes: readonly SimNode[];
  /** Downloads a global model version as the admin. */
  weights(modelId: string, version: number): Promise<Float32Array>;
  /** Bytes of round messages and weights the coordinator received / sent so far. */
  bytes(): Promise<{ up: number; down: number }>;
  close(): Promise<void>;
}

/**
 * Starts a coordinator (in-memory PGlite, free port on 127.0.0.1) and one node per shop: each
 * node joins with its own invite (the coordinator auto-approves, as in a demo), gets its own
 * in-memory store database and imports its shop's canonical CSV files, exactly as `coopfl-node
 * init` + `coopfl-node import` would. The coordinator's randomness (initial weights, round ids,
 * central DP noise) is seeded from `seed` through its context, for reproducible experiments.
 *
 * @example
 * const coop = await startCooperative(shops, { seed: 1, runtimes: () => MODEL_RUNTIMES });
 * try { … } finally { await coop.close(); }
 */
export async function startCooperative(
  shops: readonly ShopData[],
  o: {
    seed: number;
    /** The model runtimes of node `index` (malicious members get wrapped ones). */
    runtimes: (index: number) => Partial<Record<ModelKind, ModelRuntime>>;
    onNode?: (done: number, total: number) => void;
    /**
     * `http` (default): nodes reach the coordinator over HTTP on 127.0.0.1, as in production.
     * `memory`: through the coordinator's request handler in-process (the same routes, auth and
     * codecs, no sockets).
     */
    transport?: 'http' | 'memory';
  },
): Promise<SimCooperative> {
  const coordinator = await startCoordinator(
    loadConfig(
      {
        db: 'memory://',
        port: 0,
        keyFile: 'memory',
        logLevel: 'silent',
        autoApprove: true,
        authRatePerMinute: 1_000_000,
      },
      {},
    ),
  );
  const opened: { store: OpenedStore; dir: string; node?: NodeHandle }[] = [];
  const close = async () => {
    for (const n of opened) {
      await n.node?.close().catch(() => undefined);
      await n.store.close().catch(() => undefined);
      await rm(n.dir, { recursive: true, force: true });
    }
    await coordinator.close();
  };
  try {
    coordinator.ctx.random = seededRandom(deriveSeed(o.seed, 'coordinator'));
    const transport =
      o.transport === 'memory'
        ? { transport: (u: URL, init: RequestInit) => coordinator.fetch(u, init) }
        : {};
    await createAdmin(coordinator.ctx, ADMIN);
    const { client: admin, token } = await loginAdmin(
      coordinator.url,
      ADMIN.username,
      ADMIN.password,
    );
    const nodes: SimNode[] = [];
    for (const [index, shop] of shops.entries()) {
      const dir = await mkdtemp(join(tmpdir(), 'coopfl-sim-node-'));
      const store = await openStore(MEMORY_STORE);
      const slot: (typeof opened)[number] = { store, dir };
      opened.push(slot);
      const { invite } = await retryUnanswered(() => admin.invites.create.mutate({}));
      const joined = await initNode({
        dir,
        coordinatorUrl: coordinator.url,
        invite,
        name: `Shop ${shop.storeId}`.slice(0, 100),
        storeDb: MEMORY_STORE,
        store,
        ...transport,
      });
      if (joined.status !== 'approved') {
        await retryUnanswered(() => admin.members.approve.mutate({ memberId: joined.memberId }));
      }
      const random = new ReseedableRandom(deriveSeed(o.seed, 'node', index));
      const runtimes = cachedPrepare(o.runtimes(index));
      const node = await openNode(dir, { store, random, runtimes, ...transport });
      slot.node = node;
      const csv = join(dir, 'csv');
      await shop.write(csv);
      await importCanonical(node.db, csv, { batchSize: 5000 });
      nodes.push({ index, shop, node, random, runtimes, events: [] });
      o.onNode?.(index + 1, shops.length);
    }
    const metric = async (c: { get(): Promise<{ values: { value: number }[] }> }) =>
      (await c.get()).values.reduce((s, v) => s + v.value, 0);
    return {
      coordinator,
      admin,
      token,
      nodes,
      weights: async (modelId, version) => {
        const res = await retryUnanswered(() =>
          fetch(
            `${coordinator.url}/v1/models/${encodeURIComponent(modelId)}/versions/${version}/weights`,
            { headers: { authorization: `Bearer ${token}` } },
          ),
        );
        if (!res.ok) throw new Error(`weights ${modelId} v${version}: HTTP ${res.status}`);
        const buf = new Uint8Array(await res.arrayBuffer());
        return new Float32Array(buf.slice().buffer);
      },
      bytes: async () => ({
        up: await metric(coordinator.ctx.metrics.bytesIn),
        down: await metric(coordinator.ctx.metrics.bytesOut),
      }),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
