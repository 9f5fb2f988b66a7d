import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '@coopfl/protocol';
import type { RunningCoordinator } from '@coopfl/coordinator';
import { createAdmin, loadConfig, startCoordinator } from '@coopfl/coordinator';
import type { AdminClient } from '@coopfl/coordinator/client';
import { loginAdmin } from '@coopfl/coordinator/client';
import { NodeFleet } from './hosts/fleet';
import type { NodeSpec } from './hosts/host';
import { createStoreTemplate } from './hosts/store-template';
import type { Attack } from './malicious';
import { deriveSeed } from './random';
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

/** One member of the simulated cooperative, as the main thread knows it. */
export interface SimMember {
  /** Position in the experiment (shops largest first). */
  readonly index: number;
  readonly storeId: string;
  readonly memberId: string;
}

/** A running cooperative: a real coordinator and real nodes (see {@link startCooperative}). */
export interface SimCooperative {
  readonly coordinator: RunningCoordinator;
  readonly admin: AdminClient;
  /** The admin's session token (for the weights endpoint). */
  readonly token: string;
  readonly members: readonly SimMember[];
  /** The member nodes, in their hosts (worker threads, or this thread). */
  readonly fleet: NodeFleet;
  /** Downloads a global model version as the admin. */
  weights(modelId: string, version: number): Promise<Float32Array>;
  /** Bytes of round messages and weights the coordinator received / sent so far. */
  bytes(): Promise<{ up: number; down: number }>;
  close(): Promise<void>;
}

/**
 * Starts a coordinator (in-memory PGlite, free port on 127.0.0.1) and one node per shop, spread
 * over `workers` worker threads (0: all in this thread). Each node joins with its own invite
 * (created here through the admin API; the coordinator auto-approves, as in a demo), gets its own
 * embedded store database (a copy of one migrated store, see `createStoreTemplate`) and imports
 * its shop's canonical CSV files, exactly as `coopfl-node init` + `coopfl-node import` would.
 * The coordinator's randomness (initial weights, round ids, central DP noise) is seeded from
 * `seed` through its context, for reproducible experiments.
 *
 * @example
 * const coop = await startCooperative(shops, { seed: 1, workers: 2, attack: () => null });
 * try { … } finally { await coop.close(); }
 */
export async function startCooperative(
  shops: readonly ShopData[],
  o: {
    seed: number;
    /** Worker threads for the nodes; 0 runs them in this thread. */
    workers: number;
    /** The attack of node `index` when it is a malicious member, else null. */
    attack: (index: number) => Attack | null;
    onNode?: (done: number, total: number) => void;
    /**
     * `http` (default): nodes reach the coordinator over HTTP on 127.0.0.1, as in production.
     * `memory`: through the coordinator's request handler (the same routes, auth and codecs, no
     * sockets; from a worker, over a `MessagePort` to this thread).
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
  let root: string | undefined;
  let fleet: NodeFleet | undefined;
  const close = async () => {
    await fleet?.close();
    await coordinator.close();
    if (root) await rm(root, { recursive: true, force: true });
  };
  try {
    coordinator.ctx.random = seededRandom(deriveSeed(o.seed, 'coordinator'));
    await createAdmin(coordinator.ctx, ADMIN);
    const { client: admin, token } = await loginAdmin(
      coordinator.url,
      ADMIN.username,
      ADMIN.password,
    );
    root = await mkdtemp(join(tmpdir(), 'coopfl-sim-'));
    const storeTemplate = join(root, 'store-template');
    await createStoreTemplate(storeTemplate);
    fleet = await NodeFleet.start({
      workers: o.workers,
      nodes: shops.length,
      settings: { seed: o.seed, coordinatorUrl: coordinator.url, storeTemplate },
      ...(o.transport === 'memory'
        ? { fetch: (u: URL, init: RequestInit) => coordinator.fetch(u, init) }
        : {}),
    });
    const specs: NodeSpec[] = [];
    for (const [index, shop] of shops.entries()) {
      const csvDir = join(root, `shop-${index}`);
      await mkdir(csvDir);
      await shop.write(csvDir);
      const { invite } = await retryUnanswered(() => admin.invites.create.mutate({}));
      specs.push({
        index,
        storeId: shop.storeId,
        orders: shop.orders,
        invite,
        csvDir,
        dir: join(root, `node-${index}`),
        attack: o.attack(index),
      });
    }
    let done = 0;
    const joined = await fleet.open({ specs }, () => o.onNode?.(++done, shops.length));
    for (const j of joined) {
      if (j.status !== 'approved') {
        await retryUnanswered(() => admin.members.approve.mutate({ memberId: j.memberId }));
      }
    }
    const members = joined.map((j) => ({
      index: j.index,
      storeId: shops[j.index]!.storeId,
      memberId: j.memberId,
    }));
    const metric = async (c: { get(): Promise<{ values: { value: number }[] }> }) =>
      (await c.get()).values.reduce((s, v) => s + v.value, 0);
    return {
      coordinator,
      admin,
      token,
      members,
      fleet,
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
