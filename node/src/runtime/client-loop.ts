import type { KeyPair, NodeId, RandomSource } from '@coopfl/protocol';
import { systemRandom } from '@coopfl/protocol';
import type { Architecture, ModelKind } from '@coopfl/protocol/models';
import { ArchitectureSchema, MODEL_KINDS } from '@coopfl/protocol/models';
import type { NodeClient } from '@coopfl/coordinator/client';
import { allowsModel } from '@coopfl/coordinator/client';
import { personalizeWeights } from '../models/select';
import type { ModelRuntime, PreparedData } from '../models/types';
import type { StoreDatabase } from '../store/open';
import type { StoreSource } from '../store/source';
import { computeKpis } from '../benchmarks/kpis';
import { Backoff, sleep } from './backoff';
import type { NodeEvent, NodeEventSink } from './events';
import { reasonOf, runTask } from './participate';
import {
  personalizedVersion,
  latestModelVersion,
  localVersions,
  markConsentSynced,
  readConsent,
  writeConsent,
  saveKnownModel,
  saveModelVersion,
  savePersonalizedVersion,
} from './state';

/** Options of {@link runClientLoop}. */
export interface ClientLoopOptions {
  readonly db: StoreDatabase;
  /** The shop's data, read through the configured views. */
  readonly source: StoreSource;
  readonly memberId: NodeId;
  readonly identity: KeyPair;
  /** For polling: a short retry budget, so the loop's own backoff (with events) takes over. */
  readonly poller: NodeClient;
  /** For rounds: a long retry budget, so a round rides out a coordinator restart. */
  readonly roundClient: NodeClient;
  readonly runtimes: Partial<Record<ModelKind, ModelRuntime>>;
  /** Shuffling, SecAgg and DP draws (the loop's backoff jitter uses the CSPRNG). */
  readonly random: RandomSource;
  readonly pollMs: number;
  readonly maxBackoffMs: number;
  /** First backoff delay (default 500 ms). */
  readonly initialBackoffMs?: number;
  /** Long-poll time of round channels (default 20 s). */
  readonly channelPollMs?: number;
  /** How long prepared data is reused before being read again from the store (default 1 h). */
  readonly dataTtlMs?: number;
  /** The shop's `store_id` when the store database holds several shops. */
  readonly storeId?: string;
  readonly onEvent?: NodeEventSink;
  readonly signal?: AbortSignal;
  /**
   * Epochs of fine-tuning each new global version on the shop's own data (personalization,
   * see {@link personalizer}); 0 or absent: off.
   */
  readonly personalizeEpochs?: number;
  /**
   * Poll once, take part in every current task, store the newest global versions, and return
   * (cron-style operation). Without it the loop runs until `signal` aborts.
   */
  readonly once?: boolean;
}

/** What a finished loop did, for `coopfl-node run --once --json`. */
export interface ClientLoopSummary {
  readonly polls: number;
  readonly joined: number;
  readonly refused: number;
  readonly failed: number;
  readonly retries: number;
}

/**
 * The node's federated client (DESIGN §4): outbound polling only (shops sit behind NAT). Each
 * poll fetches the signed tasks; every new task runs concurrently (rounds of different models
 * overlap, and a cohort waits for its slowest member) through {@link runTask}, which enforces
 * consent and the privacy budget before anything is computed. When the coordinator is
 * unreachable the loop backs off exponentially with jitter and resumes when it answers again.
 * After each poll it also stores any newer global version of the models it consents to, so
 * local serving always uses the cooperative's latest model.
 *
 * @example
 * const ctl = new AbortController();
 * process.once('SIGINT', () => ctl.abort());
 * await runClientLoop({ ...opts, signal: ctl.signal, onEvent: (e) => log(e) });
 */
export async function runClientLoop(o: ClientLoopOptions): Promise<ClientLoopSummary> {
  const counts = { polls: 0, joined: 0, refused: 0, failed: 0, retries: 0 };
  const emit = (e: NodeEvent) => {
    if (e.type === 'round-joined') counts.joined++;
    if (e.type === 'refused') counts.refused++;
    if (e.type === 'round-error') counts.failed++;
    if (e.type === 'retry') counts.retries++;
    try {
      o.onEvent?.(e);
    } catch {
      // A broken listener must not stop the node.
    }
  };
  // Jitter from the CSPRNG, not `o.random`: how often the loop backs off depends on timing, and
  // must not shift the draws of a seeded node's rounds.
  const backoff = new Backoff({
    initialMs: o.initialBackoffMs ?? 500,
    maxMs: o.maxBackoffMs,
    random: systemRandom(),
  });
  const prepared = preparedCache(o.source, o.runtimes, o.dataTtlMs ?? 3_600_000, o.storeId);
  const personalize = o.personalizeEpochs
    ? personalizer({
        db: o.db,
        runtimes: o.runtimes,
        prepared,
        epochs: o.personalizeEpochs,
        emit,
      })
    : undefined;
  /** Rounds seen in this process: a task is attempted once (SecAgg keys are per process). */
  const seen = new Set<string>();
  const running = new Set<Promise<void>>();
  const taskCtx = {
    db: o.db,
    memberId: o.memberId,
    identity: o.identity,
    client: o.roundClient,
    runtimes: o.runtimes,
    prepared,
    kpis: (period: string) =>
      computeKpis(o.db, period, {
        found: o.source.found,
        ...(o.storeId === undefined ? {} : { storeId: o.storeId }),
      }),
    random: o.random,
    onEvent: emit,
    channelPollMs: o.channelPollMs ?? 20_000,
    ...(o.signal ? { signal: o.signal } : {}),
  };

  while (!o.signal?.aborted) {
    try {
      await syncConsent(o.db, o.poller, emit);
      const { status, tasks, consentEditAt } = await o.poller.tasks();
      if (consentEditAt) await adoptConsentEdit(o.db, o.poller, emit);
      counts.polls++;
      if (backoff.attempts > 0) emit({ type: 'reconnected', afterAttempts: backoff.attempts });
      backoff.reset();
      emit({ type: 'poll', tasks: tasks.length, status });
      for (const task of tasks) {
        if (seen.has(task.round.roundId)) continue;
        seen.add(task.round.roundId);
        const job = runTask(taskCtx, task).finally(() => running.delete(job));
        running.add(job);
      }
      if (o.once) {
        await Promise.all([...running]);
        await syncModels(o.db, o.poller, emit, personalize?.add);
        await personalize?.settled();
        break;
      }
      await syncModels(o.db, o.poller, emit, personalize?.add);
    } catch (err) {
      if (o.signal?.aborted) break;
      const delayMs = backoff.next();
      emit({ type: 'retry', attempt: backoff.attempts, delayMs, reason: reasonOf(err) });
      await sleep(delayMs, o.signal);
      continue;
    }
    await sleep(o.pollMs, o.signal);
  }
  await Promise.all([...running]);
  await personalize?.settled();
  return counts;
}

/**
 * Sends local consent to the coordinator's mirror when it changed since the last sync. A failure
 * is reported; the local setting stands (it is what the node enforces) and is sent again next
 * time.
 */
export async function syncConsent(
  db: StoreDatabase,
  client: NodeClient,
  emit: NodeEventSink,
): Promise<boolean> {
  const local = await readConsent(db);
  if (local.synced || !local.updatedAt) return true;
  try {
    await client.trpc.node.setConsent.mutate(local.consent);
  } catch (err) {
    emit({ type: 'consent-sync-failed', reason: reasonOf(err) });
    return false;
  }
  await markConsentSynced(db, local.updatedAt);
  emit({ type: 'consent-synced' });
  return true;
}

/**
 * Adopts the consent the member itself set in the dashboard (DESIGN §8: the node's settings stay
 * authoritative, so the edit becomes the node's own local setting and is then synced back, which
 * clears the coordinator's "edited in the dashboard" mark). A local change not yet synced wins:
 * it was made at the node after the coordinator last heard from it, and is pushed instead.
 */
export async function adoptConsentEdit(
  db: StoreDatabase,
  client: NodeClient,
  emit: NodeEventSink,
): Promise<boolean> {
  const local = await readConsent(db);
  if (!local.synced) return syncConsent(db, client, emit);
  const edit = await client.trpc.node.consentEdit.query();
  if (!edit) return true;
  await writeConsent(db, edit.consent);
  emit({ type: 'consent-adopted', editedAt: edit.updatedAt });
  return syncConsent(db, client, emit);
}

/** A model as the coordinator lists it to a node (`node.models`), its network parsed. */
export interface ListedModel {
  readonly id: string;
  readonly kind: string;
  readonly arch: Architecture;
  readonly latestVersion: number;
  readonly training: { readonly learningRate: number; readonly batchSize: number };
}

/**
 * Stores the newest global version of every consented model of a known kind, then lets
 * `personalize` (when given) adapt the newest stored version to the shop.
 */
export async function syncModels(
  db: StoreDatabase,
  client: NodeClient,
  emit: NodeEventSink,
  personalize?: (m: ListedModel) => void,
): Promise<void> {
  const models = await client.trpc.node.models.query();
  const local = await localVersions(db);
  const { consent } = await readConsent(db);
  for (const m of models) {
    const arch = ArchitectureSchema.safeParse(m.architecture);
    if (!arch.success || !allowsModel(consent, { id: m.id, kind: m.kind })) continue;
    await saveKnownModel(db, m.id, arch.data);
    if ((local.get(m.id) ?? -1) < m.latestVersion) {
      const w = await client.weights(m.id, m.latestVersion);
      await saveModelVersion(db, m.id, m.latestVersion, w);
      emit({ type: 'model-stored', modelId: m.id, version: m.latestVersion });
    }
    personalize?.({ ...m, arch: arch.data });
  }
}

/**
 * Personalization of served models: each global version the node stores is fine-tuned for
 * `epochs` on the shop's own training split (with the cooperative's learning rate and batch
 * size), and the copy is stored (`source = 'local'`) and served only where the shop's
 * validation split scores it better than the global model on the kind's main metric
 * (`personalizeWeights`). Nothing is sent and no privacy is spent. Each version is tried once per
 * process; a shop without validation examples keeps the global model (nothing to judge by). A
 * failure is reported and the global model is served. The work runs in the background, one
 * model at a time, so the loop keeps polling and joining rounds meanwhile; `settled` waits for it.
 */
export function personalizer(o: {
  db: StoreDatabase;
  runtimes: Partial<Record<ModelKind, ModelRuntime>>;
  prepared: (kind: ModelKind, arch: Architecture) => Promise<PreparedData>;
  epochs: number;
  emit: NodeEventSink;
  random?: RandomSource;
}): { add: (m: ListedModel) => void; settled: () => Promise<void> } {
  const tried = new Set<string>();
  // Its own random stream: how often this runs must not shift the draws of a seeded node's rounds.
  const random = o.random ?? systemRandom();
  let queue = Promise.resolve();
  const run = async (m: ListedModel, kind: ModelKind, runtime: ModelRuntime) => {
    const base = { modelId: m.id, version: m.latestVersion };
    try {
      if (await personalizedVersion(o.db, m.id, m.latestVersion)) return;
      const global = await latestModelVersion(o.db, m.id);
      if (!global || global.version !== m.latestVersion) return;
      const data = await o.prepared(kind, m.arch);
      if (data.counts.train === 0 || data.counts.validation === 0) return;
      const p = await personalizeWeights(runtime, kind, m.arch, global.weights, data, {
        epochs: o.epochs,
        learningRate: m.training.learningRate,
        batchSize: m.training.batchSize,
        mu: 0,
        random,
      });
      if (p.epoch > 0) await savePersonalizedVersion(o.db, m.id, m.latestVersion, p.weights);
      o.emit({
        type: 'personalized',
        ...base,
        epochs: p.epoch,
        metric: p.metric,
        global: p.shared,
        kept: p.kept,
      });
    } catch (err) {
      o.emit({ type: 'personalize-failed', ...base, reason: reasonOf(err) });
    }
  };
  return {
    add: (m) => {
      const kind = MODEL_KINDS.find((k) => k === m.kind);
      const runtime = kind && o.runtimes[kind];
      const key = `${m.id}@${m.latestVersion}`;
      if (!kind || !runtime || tried.has(key)) return;
      tried.add(key);
      queue = queue.then(() => run(m, kind, runtime));
    },
    settled: () => queue,
  };
}

/**
 * Prepared data per (kind, network), kept for `ttlMs`: preparing reads the whole shop, so rounds
 * of one model reuse it; a failed preparation is not cached (the next round tries again).
 */
export function preparedCache(
  source: StoreSource,
  runtimes: Partial<Record<ModelKind, ModelRuntime>>,
  ttlMs: number,
  storeId?: string,
): (kind: ModelKind, arch: Architecture) => Promise<PreparedData> {
  const cache = new Map<string, { at: number; data: Promise<PreparedData> }>();
  return (kind, arch) => {
    const key = JSON.stringify(arch);
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < ttlMs) return hit.data;
    const runtime = runtimes[kind];
    const data = runtime
      ? runtime.prepare(source, { arch, ...(storeId === undefined ? {} : { storeId }) })
      : Promise.reject(new Error(`this node has no ${kind} model`));
    cache.set(key, { at: Date.now(), data });
    data.catch(() => cache.delete(key));
    return data;
  };
}
