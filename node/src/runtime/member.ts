import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyPair, NodeId, RandomSource } from '@coopfl/protocol';
import { cryptoReady, nodeId, systemRandom } from '@coopfl/protocol';
import type { ModelKind } from '@coopfl/protocol/models';
import type { Consent, RetryPolicy, Transport } from '@coopfl/coordinator/client';
import { NodeClient, allowsModel } from '@coopfl/coordinator/client';
import { CoopNodeError, isCoopNodeError } from '../errors';
import type { ModelRuntime } from '../models/types';
import type { OpenedStore, StoreDatabase } from '../store/open';
import { openStore } from '../store/open';
import { initTf } from '../tf/backend';
import { StoreSource, checkStoreSource } from '../store/source';
import type { ClientLoopSummary } from './client-loop';
import { runClientLoop, syncConsent } from './client-loop';
import { computeKpis, nodeBenchmarks, type NodeBenchmarks } from '../benchmarks';
import type { NodeConfig } from './config';
import {
  CONFIG_FILE,
  keyFingerprint,
  loadNodeConfig,
  parseNodeConfig,
  saveNodeConfig,
  storeTarget,
  viewsOf,
} from './config';
import { coordinatorError } from './coordinator-errors';
import type { NodeEvent, NodeEventSink } from './events';
import {
  epsilonSpent,
  knownModelList,
  loadIdentity,
  loadOrCreateIdentity,
  localVersions,
  readConsent,
  recentRounds,
  writeConsent,
} from './state';

/** The embedded database's directory inside the data directory, when `storeDb` is not given. */
export const DEFAULT_STORE_DB = 'db';

/** Options of {@link initNode}. */
export interface InitNodeOptions {
  /** The node's data directory (config + embedded database). */
  readonly dir: string;
  readonly coordinatorUrl: string;
  /** The invite from the cooperative's admin; it carries the coordinator key's fingerprint. */
  readonly invite: string;
  /** `postgres://…` or a PGlite directory (relative to `dir`); default `<dir>/db`. */
  readonly storeDb?: string;
  /** The shop's name as the cooperative's admins see it. */
  readonly name: string;
  readonly views?: NodeConfig['views'];
  readonly pollMs?: number;
  /**
   * An already open node database to use instead of opening `storeDb` (in-process simulations
   * and tests with in-memory stores); the caller keeps it open and closes it.
   */
  readonly store?: OpenedStore;
  /** How requests reach the coordinator (default HTTP; the simulator's in-memory transport). */
  readonly transport?: Transport;
}

/** What {@link initNode} did. */
export interface InitNodeResult {
  readonly memberId: string;
  /** `pending` until an admin approves the member, or `approved`. */
  readonly status: string;
  readonly coordinatorFingerprint: string;
  readonly configFile: string;
}

/**
 * Joins a cooperative: creates the node's database and identity key, joins with the invite
 * (the coordinator's key must match the invite's fingerprint, so a node cannot be pointed at an
 * impostor), and writes the config. Refuses to overwrite a node that already joined.
 *
 * @example
 * await initNode({ dir: '.coopfl/node', coordinatorUrl, invite, name: 'Shop 1' });
 */
export async function initNode(o: InitNodeOptions): Promise<InitNodeResult> {
  const configFile = join(o.dir, CONFIG_FILE);
  if (
    await access(configFile).then(
      () => true,
      () => false,
    )
  ) {
    throw new CoopNodeError('AlreadyInitialized', `${o.dir} already holds a node (${CONFIG_FILE})`);
  }
  await cryptoReady();
  const storeDb = o.storeDb ?? DEFAULT_STORE_DB;
  const url = o.coordinatorUrl.replace(/\/+$/, '');
  const draft = (coordinatorKey: Uint8Array, memberId: string) =>
    parseNodeConfig({
      coordinatorUrl: url,
      coordinatorKey: Buffer.from(coordinatorKey).toString('hex'),
      coordinatorFingerprint: keyFingerprint(coordinatorKey),
      memberId,
      name: o.name,
      storeDb,
      views: o.views ?? {},
      ...(o.pollMs === undefined ? {} : { pollMs: o.pollMs }),
    });
  // Everything that does not need the coordinator is checked before joining: an invite is
  // single-use, so a bad flag or view must not waste it.
  const checked = draft(new Uint8Array(32), 'pending');
  const store = o.store ?? (await openStore(storeTarget(o.dir, storeDb)));
  try {
    await checkStoreSource(store.db, viewsOf(checked));
    const identity = await loadOrCreateIdentity(store.db);
    const joined = await joinWithRetry(
      url,
      { invite: o.invite, name: o.name, identity },
      o.transport,
    );
    const config = draft(joined.coordinatorKey, joined.memberId);
    await saveNodeConfig(o.dir, config);
    return {
      memberId: joined.memberId,
      status: joined.status,
      coordinatorFingerprint: config.coordinatorFingerprint,
      configFile,
    };
  } finally {
    if (!o.store) await store.close();
  }
}

/** Options of {@link openNode}. */
export interface OpenNodeOptions {
  /** The model runtimes (default: the node's three models). */
  readonly runtimes?: Partial<Record<ModelKind, ModelRuntime>>;
  /**
   * Randomness of what the node computes: shuffling, SecAgg keys and masks, rounding, DP noise
   * (default: the CSPRNG). Request nonces and retry jitter always come from the CSPRNG: they change
   * no result, and how many a round draws depends on timing (long polls that expire, retries), so
   * drawing them from a seeded `random` made a seeded node's results depend on timing too.
   */
  readonly random?: RandomSource;
  /** Retry budget of round traffic (default 10 min: rides out a coordinator restart). */
  readonly roundRetry?: Partial<RetryPolicy>;
  /** An already open node database (see {@link InitNodeOptions.store}); not closed by `close`. */
  readonly store?: OpenedStore;
  /** How requests reach the coordinator (see {@link InitNodeOptions.transport}). */
  readonly transport?: Transport;
}

/** Membership and local state, as `coopfl-node status` shows it. */
export interface NodeStatus {
  readonly memberId: string;
  readonly name: string;
  readonly coordinatorUrl: string;
  /** From the coordinator when reachable (`pending`, `approved`, `revoked`), else `unreachable`. */
  readonly membership: string;
  readonly coordinatorError?: string;
  readonly models: readonly {
    modelId: string;
    kind: string;
    localVersion: number | null;
    latestVersion: number | null;
    consented: boolean;
  }[];
  readonly lastRound: {
    roundId: string;
    modelId: string;
    kind: string;
    outcome: string;
    reason: string | null;
    at: string;
  } | null;
  /** ε spent per model from the node's own ledger (member-level). */
  readonly privacy: readonly { modelId: string; epsilon: number; delta: number; rounds: number }[];
  readonly consent: Consent;
  readonly consentSynced: boolean;
}

/** Result of setting consent: stored locally always; synced when the coordinator answered. */
export interface ConsentSetResult {
  readonly consent: Consent;
  readonly synced: boolean;
  readonly syncError?: string;
}

/** An opened node: its config, database and coordinator clients. */
export interface NodeHandle {
  readonly dir: string;
  readonly config: NodeConfig;
  readonly db: StoreDatabase;
  readonly memberId: NodeId;
  readonly consent: {
    get(): Promise<{ consent: Consent; synced: boolean }>;
    set(input: unknown): Promise<ConsentSetResult>;
  };
  status(): Promise<NodeStatus>;
  /** Runs the federated client loop (see `runClientLoop`) until `signal` aborts, or once. */
  run(o?: {
    signal?: AbortSignal;
    once?: boolean;
    onEvent?: NodeEventSink;
    /** Overrides of the config's timing and personalization (tests). */
    pollMs?: number;
    personalizeEpochs?: number;
    initialBackoffMs?: number;
    maxBackoffMs?: number;
    channelPollMs?: number;
  }): Promise<ClientLoopSummary>;
  /** The shop's data through the configured views (opened on first use). */
  source(): Promise<StoreSource>;
  /**
   * The shop's own benchmark KPIs (computed here, from the store) beside the cooperative's
   * published figures: of `period`, or of every period with published benchmarks.
   */
  benchmarks(period?: string): Promise<NodeBenchmarks>;
  /** The dashboard URL for this member. */
  dashboardUrl(): string;
  /**
   * A one-time login link to this member's dashboard page: the coordinator mints a short-lived
   * token for this node's signed request, and the dashboard exchanges it for a member session.
   * `base` overrides the configured dashboard URL.
   */
  dashboardLink(base?: string): Promise<{ url: string; expiresAt: string }>;
  close(): Promise<void>;
}

/** The node's default model runtimes (loaded lazily: TensorFlow.js is heavy). */
async function defaultRuntimes(): Promise<Partial<Record<ModelKind, ModelRuntime>>> {
  const models = await import('../models');
  return models.MODEL_RUNTIMES;
}

/**
 * Opens a joined node from its data directory: reads and validates the config (a bad value stops
 * here with a message naming it), opens and migrates its database, and loads the identity key.
 *
 * @example
 * const node = await openNode('.coopfl/node');
 * try {
 *   await node.consent.set({ models: ['demand', 'fraud'], epsilonCaps: { fraud: 4 } });
 *   await node.run({ signal, onEvent: console.log });
 * } finally {
 *   await node.close();
 * }
 */
export async function openNode(dir: string, opts: OpenNodeOptions = {}): Promise<NodeHandle> {
  const config = await loadNodeConfig(dir);
  await cryptoReady();
  const store: OpenedStore = opts.store ?? (await openStore(storeTarget(dir, config.storeDb)));
  const closeStore = () => (opts.store ? Promise.resolve() : store.close());
  let identity: KeyPair;
  try {
    identity = await loadIdentity(store.db);
  } catch (err) {
    await closeStore();
    throw err;
  }
  const random = opts.random ?? systemRandom();
  const coordinatorKey = Uint8Array.from(Buffer.from(config.coordinatorKey, 'hex'));
  const memberId = nodeId(config.memberId);
  const clientOf = (retry: Partial<RetryPolicy>) =>
    new NodeClient({
      url: config.coordinatorUrl,
      ...(opts.transport ? { transport: opts.transport } : {}),
      memberId,
      identity,
      coordinatorKey,
      retry,
      // Nonces and retry jitter: see OpenNodeOptions.random.
      random: systemRandom(),
    });
  // Control calls try briefly: the loop's own backoff (with events) handles longer outages.
  const control = clientOf({ maxWaitMs: 1_500, initialDelayMs: 200, maxDelayMs: 800 });
  let source: Promise<StoreSource> | undefined;
  const openSource = () => (source ??= StoreSource.open(store.db, viewsOf(config)));

  const handle: NodeHandle = {
    dir,
    config,
    db: store.db,
    memberId,
    consent: {
      get: async () => {
        const c = await readConsent(store.db);
        return { consent: c.consent, synced: c.synced };
      },
      set: async (input) => {
        const consent = await writeConsent(store.db, input);
        let syncError: string | undefined;
        const synced = await syncConsent(store.db, control, (e: NodeEvent) => {
          if (e.type === 'consent-sync-failed') syncError = e.reason;
        });
        return { consent, synced, ...(syncError ? { syncError } : {}) };
      },
    },
    status: async () => {
      const local = await readConsent(store.db);
      let membership = 'unreachable';
      let coordinatorError: string | undefined;
      const latest = new Map<string, number>();
      try {
        const s = await control.trpc.node.status.query();
        membership = s.member.status;
        for (const m of await control.trpc.node.models.query()) latest.set(m.id, m.latestVersion);
      } catch (err) {
        coordinatorError = coordinatorErrorMessage(err);
      }
      const versions = await localVersions(store.db);
      const known = await knownModelList(store.db);
      const ids = new Set([...known.map((k) => k.modelId), ...versions.keys(), ...latest.keys()]);
      const kindOf = new Map(known.map((k) => [k.modelId, k.kind]));
      const [last] = await recentRounds(store.db, 1);
      return {
        memberId: config.memberId,
        name: config.name,
        coordinatorUrl: config.coordinatorUrl,
        membership,
        ...(coordinatorError ? { coordinatorError } : {}),
        models: [...ids].sort().map((id) => {
          const kind = kindOf.get(id) ?? 'unknown';
          return {
            modelId: id,
            kind,
            localVersion: versions.get(id) ?? null,
            latestVersion: latest.get(id) ?? null,
            consented: allowsModel(local.consent, { id, kind }),
          };
        }),
        lastRound: last
          ? {
              roundId: last.roundId,
              modelId: last.modelId,
              kind: last.kind,
              outcome: last.outcome,
              reason: last.reason,
              at: last.updatedAt.toISOString(),
            }
          : null,
        privacy: await epsilonSpent(store.db),
        consent: local.consent,
        consentSynced: local.synced,
      };
    },
    run: async (o = {}) => {
      await initTf();
      const runtimes = opts.runtimes ?? (await defaultRuntimes());
      const poller = clientOf({ maxWaitMs: 1_000, initialDelayMs: 200, maxDelayMs: 800 });
      const roundClient = clientOf({
        maxWaitMs: 10 * 60_000,
        initialDelayMs: 200,
        maxDelayMs: 5_000,
        ...opts.roundRetry,
      });
      return runClientLoop({
        db: store.db,
        source: await openSource(),
        memberId,
        identity,
        poller,
        roundClient,
        runtimes,
        random,
        pollMs: o.pollMs ?? config.pollMs,
        maxBackoffMs: o.maxBackoffMs ?? config.maxBackoffMs,
        personalizeEpochs: o.personalizeEpochs ?? config.personalizeEpochs,
        ...(config.storeId === undefined ? {} : { storeId: config.storeId }),
        ...(o.initialBackoffMs === undefined ? {} : { initialBackoffMs: o.initialBackoffMs }),
        ...(o.channelPollMs === undefined ? {} : { channelPollMs: o.channelPollMs }),
        ...(o.onEvent ? { onEvent: o.onEvent } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
        ...(o.once ? { once: true } : {}),
      });
    },
    source: openSource,
    benchmarks: async (period) => {
      const found = (await openSource()).found;
      return nodeBenchmarks(
        {
          memberId: config.memberId,
          published: (p) =>
            control.trpc.node.benchmarks
              .query(p === undefined ? {} : { period: p })
              .catch((err: unknown) => {
                throw coordinatorError(err, 'reading the published benchmarks');
              }),
          kpis: (p) =>
            computeKpis(store.db, p, {
              found,
              ...(config.storeId === undefined ? {} : { storeId: config.storeId }),
            }),
        },
        period,
      );
    },
    dashboardUrl: () =>
      `${config.dashboardUrl ?? `${config.coordinatorUrl}/dashboard`}/members/${encodeURIComponent(config.memberId)}`,
    dashboardLink: async (base) => {
      const root = (base ?? config.dashboardUrl ?? `${config.coordinatorUrl}/dashboard`).replace(
        /\/+$/,
        '',
      );
      const t = await control.trpc.node.dashboardLogin.mutate();
      return { url: `${root}/login/member?token=${t.token}`, expiresAt: t.expiresAt };
    },
    close: closeStore,
  };
  return handle;
}

/**
 * Joins, retrying a few times when the request never got an answer (connection refused or reset,
 * e.g. a keep-alive socket the server closed at that instant). An answer of any status is final:
 * an invite is single-use.
 */
async function joinWithRetry(
  url: string,
  input: Parameters<typeof NodeClient.join>[1],
  transport?: Transport,
): Promise<Awaited<ReturnType<typeof NodeClient.join>>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await NodeClient.join(url, input, transport);
    } catch (err) {
      const e = coordinatorError(err, 'joining');
      const answered = (err as { data?: { httpStatus?: number } | null }).data?.httpStatus;
      if (e.code !== 'CoordinatorUnavailable' || answered !== undefined || attempt >= 4) throw e;
      await new Promise((r) => setTimeout(r, 250 * attempt));
    }
  }
}

function coordinatorErrorMessage(err: unknown): string {
  const e = coordinatorError(err, 'asking the coordinator');
  return isCoopNodeError(e) ? e.message : String(err);
}
