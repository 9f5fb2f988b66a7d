import type { KeyPair, NodeId, RandomSource } from '@coopfl/protocol';
import type { ClientInput } from '@coopfl/protocol/secagg';
import { createClient, runClient, sealClientMessage } from '@coopfl/protocol/secagg';
import { asDelta, asEpsilon } from '@coopfl/protocol/dp';
import type { PrivacyEvent } from '@coopfl/protocol/dp';
import { clipUpdate } from '@coopfl/protocol/strategy';
import type { Architecture, ModelKind } from '@coopfl/protocol/models';
import { manifestOf } from '@coopfl/protocol/models';
import type { NodeClient, RoundConfig, TaskBody } from '@coopfl/coordinator/client';
import {
  allowsModel,
  epsilonLimits,
  roundEvent,
  secAggConfigOf,
  skellamRoundEvent,
} from '@coopfl/coordinator/client';
import { encodeBenchmark, matchesPeerGroup } from '@coopfl/protocol/benchmarks';
import type { Consent } from '@coopfl/coordinator/client';
import type { ShopKpis } from '../benchmarks';
import { isCoopNodeError } from '../errors';
import type { ModelRuntime, PreparedData } from '../models/types';
import type { StoreDatabase } from '../store/open';
import type { NodeEventSink, RefusalReason } from './events';
import { sleep } from './backoff';
import {
  memberLedger,
  readConsent,
  recordMemberEvent,
  recordRound,
  roundRecord,
  saveKnownModel,
  saveLocalMetrics,
  saveModelVersion,
} from './state';

/** Everything one task needs from its node. */
export interface TaskContext {
  readonly db: StoreDatabase;
  readonly memberId: NodeId;
  readonly identity: KeyPair;
  /** Client used for weights and the round channel (long retry budget: rides out restarts). */
  readonly client: NodeClient;
  readonly runtimes: Partial<Record<ModelKind, ModelRuntime>>;
  /** Prepared data per kind and network, cached by the loop. */
  readonly prepared: (kind: ModelKind, arch: Architecture) => Promise<PreparedData>;
  /** The shop's benchmark KPIs of a period, read through the node's configured views. */
  readonly kpis: (period: string) => Promise<ShopKpis>;
  readonly random: RandomSource;
  readonly onEvent: NodeEventSink;
  /** Long-poll time of the round channel. */
  readonly channelPollMs: number;
  readonly signal?: AbortSignal;
}

/** A task the node declines (consent, budget, …): it simply does not take part. */
export class Refusal extends Error {
  override readonly name = 'Refusal';
  constructor(
    readonly reason: RefusalReason,
    readonly detail: string,
  ) {
    super(`${reason}: ${detail}`);
  }
}

/**
 * The member-level privacy event this round adds, computed exactly as the coordinator's ledger
 * does (`roundEvent` / `skellamRoundEvent`); undefined when the round spends nothing (no DP, or
 * an evaluation round — the coordinator accounts training and benchmark rounds only).
 */
export function roundPrivacyEvent(rc: RoundConfig, memberId: NodeId): PrivacyEvent | undefined {
  const dp = rc.model.dp;
  if (rc.kind === 'eval' || dp.mode === 'off') return undefined;
  const at = new Date();
  if (dp.mode === 'distributed') {
    if (!rc.noise) throw new Refusal('mismatch', 'a distributed-DP round without a noise plan');
    return skellamRoundEvent(rc.modelId, memberId, rc.noise.skellam, rc.model.samplingRate, at);
  }
  return roundEvent(rc.modelId, memberId, dp.noiseMultiplier, rc.model.samplingRate, at);
}

/**
 * Checks consent and the remaining privacy budget for a task, locally (the node's settings are
 * authoritative, DESIGN §8): throws {@link Refusal} when either forbids taking part.
 */
export async function checkTask(
  db: StoreDatabase,
  memberId: NodeId,
  rc: RoundConfig,
): Promise<{ arch: Architecture; kind: ModelKind; privacy?: PrivacyEvent }> {
  const arch = rc.model.architecture;
  if (!arch) throw new Refusal('unsupported', `model "${rc.modelId}" has no known network`);
  const { consent } = await readConsent(db);
  if (!allowsModel(consent, { id: rc.modelId, kind: arch.kind })) {
    throw new Refusal('consent', `consent does not include model "${rc.modelId}"`);
  }
  const privacy = await checkBudget(db, memberId, rc, consent, arch.kind);
  return privacy ? { arch, kind: arch.kind, privacy } : { arch, kind: arch.kind };
}

/**
 * The privacy event the round would add, after checking it against the same limits the
 * coordinator schedules by (the cooperative's lifetime budget and the shop's own cap over its
 * consent period) for the round's account (a model, or `benchmarks`): throws a `budget`
 * {@link Refusal} when one would be exceeded.
 */
export async function checkBudget(
  db: StoreDatabase,
  memberId: NodeId,
  rc: RoundConfig,
  consent: Consent,
  kind: string,
): Promise<PrivacyEvent | undefined> {
  const privacy = roundPrivacyEvent(rc, memberId);
  if (!privacy) return undefined;
  const ledger = await memberLedger(db, rc.modelId, memberId, rc.model.dp.delta);
  const limits = epsilonLimits(
    consent,
    { id: rc.modelId, kind, budget: rc.model.dp.epsilonBudget },
    new Date(),
  );
  for (const limit of limits) {
    const check = (limit.since ? ledger.since(limit.since) : ledger).wouldExceed(
      { epsilon: asEpsilon(limit.epsilon), delta: asDelta(rc.model.dp.delta), unit: 'member' },
      privacy,
    );
    if (check.exceeds) {
      const what = rc.kind === 'benchmark' ? 'benchmarks' : `model "${rc.modelId}"`;
      throw new Refusal(
        'budget',
        `${what}: ε would reach ${check.epsilonAfter.toFixed(3)} > ${limit.epsilon} (${limit.label})`,
      );
    }
  }
  return privacy;
}

/** Clamps a metric into the evaluation round's quantization range. */
const clampTo = (v: number, r: number) => Math.min(r, Math.max(-r, v));

/** Builds this member's secure-aggregation input: a clipped update, or its metrics. */
async function inputFor(
  ctx: TaskContext,
  rc: RoundConfig,
  arch: Architecture,
  kind: ModelKind,
): Promise<ClientInput> {
  const runtime = ctx.runtimes[kind];
  if (!runtime) throw new Refusal('unsupported', `this node has no ${kind} model`);
  const dim = manifestOf(arch).dim;
  const global = await ctx.client.weights(rc.modelId, rc.baseVersion);
  if (global.length !== dim) {
    throw new Refusal('mismatch', `weights have ${global.length} entries, the network ${dim}`);
  }
  await saveKnownModel(ctx.db, rc.modelId, arch);
  // A shop without the data a model needs (no fraud labels, too few orders) sits the model out.
  const data = await ctx.prepared(kind, arch).catch((err: unknown) => {
    if (isCoopNodeError(err, 'InsufficientData') || isCoopNodeError(err, 'StoreSchemaMismatch')) {
      throw new Refusal('no-data', reasonOf(err));
    }
    throw err;
  });
  if (rc.kind === 'eval') {
    const metrics = runtime.evaluate(arch, global, data, 'test');
    // Baselines on the same test split, as `<metric>@<baseline>` (e.g. `wape@seasonal_naive`), so
    // a round may average them too and the dashboard draws them as reference lines.
    const reported: Record<string, number> = { ...metrics };
    if (rc.metrics.some((m) => m.includes('@')))
      for (const [baseline, values] of Object.entries(runtime.baselines(data)))
        for (const [name, v] of Object.entries(values)) reported[`${name}@${baseline}`] = v;
    await saveLocalMetrics(ctx.db, rc.modelId, rc.baseVersion, metrics, data.counts.test);
    ctx.onEvent({ type: 'evaluated', roundId: rc.roundId, modelId: rc.modelId, metrics });
    // A metric this shop cannot measure (e.g. PR-AUC without a fraud case in its test split) is
    // not guessed: the node stays out of the average rather than biasing it.
    const missing = rc.metrics.filter((m) => !Number.isFinite(reported[m]));
    if (missing.length > 0) {
      throw new Refusal('metrics', `no value for metric ${missing.join(', ')} on this shop's data`);
    }
    const range = rc.secagg.clipRange;
    return {
      vector: rc.metrics.map((m) => clampTo(reported[m]!, range)),
      weight: Math.min(Math.max(data.counts.test, 1), rc.secagg.maxWeight),
    };
  }
  if (rc.secagg.dim !== dim) {
    throw new Refusal('mismatch', `round dim ${rc.secagg.dim} differs from the network's ${dim}`);
  }
  if (data.counts.train === 0) throw new Refusal('no-data', 'no training examples');
  const t = rc.model.training;
  const result = await runtime.train(arch, global, data, {
    epochs: t.epochs,
    learningRate: t.learningRate,
    batchSize: t.batchSize,
    mu: t.mu,
    random: ctx.random,
  });
  // Δ = w_local − w_global, clipped to C: SecAgg's clipRange is C, and under DP C bounds each
  // member's influence on the sum.
  const delta = new Float32Array(dim);
  for (let i = 0; i < dim; i++) delta[i] = result.weights[i]! - global[i]!;
  const { clipped, scale } = clipUpdate(delta, rc.secagg.clipRange);
  ctx.onEvent({
    type: 'trained',
    roundId: rc.roundId,
    modelId: rc.modelId,
    examples: result.examples,
    clipped: scale < 1,
  });
  return { vector: clipped, weight: Math.min(result.examples, rc.secagg.maxWeight) };
}

/** A model task's input (a clipped update, or metrics) after the consent and budget checks. */
async function modelInput(
  ctx: TaskContext,
  rc: RoundConfig,
): Promise<{ input: ClientInput; privacy?: PrivacyEvent }> {
  const { arch, kind, privacy } = await checkTask(ctx.db, ctx.memberId, rc);
  return { input: await inputFor(ctx, rc, arch, kind), ...(privacy ? { privacy } : {}) };
}

/**
 * A benchmark task's input: the shop's KPIs for the period, computed here from its own store and
 * limited to those its consent lists. A shop outside the run's peer group, or without data for
 * the KPIs, still takes part with zeros — so the coordinator cannot tell who is in which group —
 * and spends the run's ε like everyone else.
 */
async function benchmarkInput(
  ctx: TaskContext,
  rc: RoundConfig,
): Promise<{ input: ClientInput; privacy?: PrivacyEvent }> {
  const spec = rc.benchmark;
  if (!spec) throw new Refusal('mismatch', 'a benchmark round without its specification');
  const { consent } = await readConsent(ctx.db);
  const consented = spec.kpis.filter((k) => consent.kpis.includes(k));
  if (consented.length === 0) {
    throw new Refusal('consent', `consent includes none of the KPIs ${spec.kpis.join(', ')}`);
  }
  const privacy = await checkBudget(ctx.db, ctx.memberId, rc, consent, 'benchmarks');
  const shop = await ctx.kpis(spec.period);
  const inGroup = matchesPeerGroup(shop.attributes, spec.peerGroup);
  const values = inGroup
    ? Object.fromEntries(
        consented.flatMap((k) => (shop.values[k] !== undefined ? [[k, shop.values[k]]] : [])),
      )
    : {};
  ctx.onEvent({
    type: 'benchmark-contributed',
    roundId: rc.roundId,
    period: spec.period,
    kpis: Object.keys(values),
  });
  return {
    input: { vector: encodeBenchmark({ kpis: spec.kpis, bins: spec.bins }, values), weight: 1 },
    ...(privacy ? { privacy } : {}),
  };
}

/** Waits for the coordinator to release the round (done or failed). */
async function outcomeOf(ctx: TaskContext, rc: RoundConfig) {
  const deadline = Date.now() + 4 * rc.model.stageTimeoutMs + 30_000;
  for (;;) {
    const r = await ctx.client.trpc.node.round.query({ roundId: rc.roundId });
    if (r.status === 'done' || r.status === 'failed') return r;
    if (Date.now() > deadline || ctx.signal?.aborted) return r;
    await sleep(200, ctx.signal);
  }
}

/**
 * One task from start to end: check consent and budget (refuse otherwise), fetch the signed base
 * weights, train or evaluate, take part in secure aggregation (with the round's Skellam noise
 * under distributed DP), then — once the coordinator has released the round — record the privacy
 * spent in the node's own ledger and store the new global version.
 *
 * A SecAgg client's keys live only in memory: a node that restarts after advertising cannot
 * rejoin that round (the protocol treats it as dropped), so tasks already past the advertising
 * stage are declined as `late`.
 */
export async function runTask(ctx: TaskContext, task: TaskBody): Promise<void> {
  const rc = task.round;
  const base = { roundId: rc.roundId, modelId: rc.modelId };
  const row = { ...base, kind: rc.kind };
  let advertising = false;
  try {
    if (await roundRecord(ctx.db, rc.roundId)) {
      throw new Refusal('late', 'an earlier run of this node already handled this round');
    }
    if (task.stage !== 'advertise') {
      throw new Refusal('late', `the round is already at stage ${task.stage}`);
    }
    const { input, privacy } =
      rc.kind === 'benchmark' ? await benchmarkInput(ctx, rc) : await modelInput(ctx, rc);
    // Recorded before the keys are advertised: a restarted node must not advertise twice.
    await recordRound(ctx.db, { ...row, outcome: 'joined' });
    ctx.onEvent({ type: 'round-joined', ...base, kind: rc.kind });
    advertising = true;
    const client = createClient({
      config: secAggConfigOf(rc),
      index: task.clientIndex,
      identity: ctx.identity,
      input,
      random: ctx.random,
      ...(rc.kind !== 'eval' && rc.noise ? { skellamMu: rc.noise.perClientMu } : {}),
    });
    await runClient(ctx.client.channel(rc.roundId, { pollMs: ctx.channelPollMs }), client);
    const outcome = await outcomeOf(ctx, rc);
    ctx.onEvent({
      type: 'round-finished',
      ...base,
      kind: rc.kind,
      status: outcome.status,
      resultVersion: outcome.resultVersion,
    });
    const finished = outcome.status === 'done' || outcome.status === 'failed';
    await recordRound(ctx.db, {
      ...row,
      outcome: finished ? (outcome.status as 'done' | 'failed') : 'error',
      reason: outcome.error ?? (finished ? null : `still ${outcome.status}`),
      resultVersion: outcome.resultVersion,
    });
    if (outcome.status !== 'done') return;
    if (privacy) {
      const ledger = await memberLedger(ctx.db, rc.modelId, ctx.memberId, rc.model.dp.delta);
      const { epsilon } = ledger
        .with(privacy)
        .spent({ modelId: rc.modelId, memberId: ctx.memberId, unit: 'member' });
      await recordMemberEvent(ctx.db, privacy, rc.roundId, epsilon, rc.model.dp.delta);
      ctx.onEvent({ type: 'privacy-spent', ...base, epsilon });
    }
    if (outcome.resultVersion !== null) {
      const w = await ctx.client.weights(rc.modelId, outcome.resultVersion);
      await saveModelVersion(ctx.db, rc.modelId, outcome.resultVersion, w);
      ctx.onEvent({ type: 'model-stored', modelId: rc.modelId, version: outcome.resultVersion });
    }
  } catch (err) {
    // Not taking part: say so before advertising, so the others need not wait for the deadline.
    const late = err instanceof Refusal && err.reason === 'late';
    if (!advertising && !late) {
      await declineRound(ctx, rc, task.clientIndex, err instanceof Refusal ? err.reason : 'error');
    }
    if (err instanceof Refusal) {
      if (err.reason !== 'late' || !(await roundRecord(ctx.db, rc.roundId).catch(() => true))) {
        await recordRound(ctx.db, { ...row, outcome: 'refused', reason: err.detail }).catch(
          () => undefined,
        );
      }
      ctx.onEvent({ type: 'refused', ...base, reason: err.reason, detail: err.detail });
      return;
    }
    const reason = reasonOf(err);
    await recordRound(ctx.db, { ...row, outcome: 'error', reason }).catch(() => undefined);
    ctx.onEvent({ type: 'round-error', ...base, reason });
  }
}

/**
 * Tells the coordinator that this node will not take part in the round (a signed SecAgg decline
 * with a reason code, never data), so the advertise stage closes once the others have advertised.
 * Best effort: a decline that does not get through leaves the node to be dropped at the deadline.
 */
async function declineRound(
  ctx: TaskContext,
  rc: RoundConfig,
  index: number,
  reason: string,
): Promise<void> {
  try {
    const bytes = sealClientMessage(
      { stage: 'decline', roundId: rc.roundId, from: index, reason },
      ctx.identity.privateKey,
      secAggConfigOf(rc).digest,
    );
    await ctx.client.channel(rc.roundId, { pollMs: ctx.channelPollMs }).send(index, bytes);
  } catch {
    // The round's deadline covers it.
  }
}

/** A one-line reason for an error, without data (our errors never carry values). */
export function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]!.slice(0, 300) : String(err);
}
