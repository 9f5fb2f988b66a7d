import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import { z } from 'zod';
import type { NodeId, RoundId } from '@coopfl/protocol';
import { roundId as toRoundId } from '@coopfl/protocol';
import type { KpiId, KpiRelease, PeerGroup } from '@coopfl/protocol/benchmarks';
import {
  KPI_IDS,
  KpiIdSchema,
  PeerGroupSchema,
  benchmarkDim,
  benchmarkSensitivity,
  decodeBenchmark,
  parsePeriod,
  peerGroupLabel,
  previousMonth,
  releaseKpi,
} from '@coopfl/protocol/benchmarks';
import {
  PrivacyLedger,
  asDelta,
  calibrateNoiseMultiplier,
  gaussianVector,
} from '@coopfl/protocol/dp';
import type { AggregateResult } from '@coopfl/protocol/secagg';
import { defaultNeighbours, quantizationScale } from '@coopfl/protocol/secagg';
import type { CoordinatorContext } from '../context';
import {
  BENCHMARK_ACCOUNT,
  benchmarkResults,
  cooperativeSettings,
  roundParticipants,
  rounds,
} from '../db';
import { CoordinatorError } from '../errors';
import { planDistributedDp } from '../rounds/distributed-dp';
import { activeMembers } from '../rounds/start';
import type { RoundConfig } from '../rounds/round-config';
import { secAggConfigOf } from '../rounds/round-config';
import { audit } from './audit';
import { epsilonLimits, getConsents } from './consent';
import { rememberMembers } from './members';
import type { ModelConfig } from './model-config';
import { ModelConfigSchema } from './model-config';
import { budget, ledgerFor, roundEvent, skellamRoundEvent } from './privacy';

/**
 * The cooperative's benchmark settings (`cooperative_settings.benchmarks`): the release rules and
 * the privacy every run spends. The privacy unit is the member: each run is one Gaussian (central)
 * or Skellam (distributed) event on the member's `benchmarks` ledger account, whatever it
 * contributes, and a run that would take a member over the budget leaves it out.
 */
export const BenchmarkSettingsSchema = z.object({
  /** Fewest contributors per KPI (and members per run) before anything is released. */
  minContributors: z.number().int().min(2).max(10_000).default(5),
  /** Histogram bins per KPI, for the quartiles. */
  bins: z.number().int().min(2).max(64).default(10),
  /** Confidence of the published intervals. */
  confidence: z.number().gt(0.5).lt(1).default(0.95),
  dp: z
    .object({
      mode: z.enum(['off', 'central', 'distributed']).default('central'),
      /** ε each run spends per member (the noise multiplier is calibrated to it). */
      epsilonPerRun: z.number().positive().max(100).default(2),
      delta: z.number().positive().max(0.1).default(1e-5),
      /** Each member's lifetime ε budget for benchmarks. */
      epsilonBudget: z.number().positive().max(1000).default(20),
    })
    .default({ mode: 'central', epsilonPerRun: 2, delta: 1e-5, epsilonBudget: 20 }),
  stageTimeoutMs: z
    .number()
    .int()
    .min(100)
    .max(24 * 3600_000)
    .default(120_000),
  /**
   * On this day of each month (UTC) the coordinator runs the cooperative's benchmark of the
   * month before, all KPIs, with these settings; null: runs are started by hand only.
   */
  monthlyOnDay: z.number().int().min(1).max(28).nullable().default(null),
});
export type BenchmarkSettings = z.infer<typeof BenchmarkSettingsSchema>;
export type BenchmarkSettingsInput = z.input<typeof BenchmarkSettingsSchema>;

const SETTINGS_KEY = 'benchmarks';

export async function getBenchmarkSettings(
  ctx: Pick<CoordinatorContext, 'db'>,
): Promise<BenchmarkSettings> {
  const [row] = await ctx.db
    .select()
    .from(cooperativeSettings)
    .where(eq(cooperativeSettings.key, SETTINGS_KEY));
  const parsed = BenchmarkSettingsSchema.safeParse(row?.value ?? {});
  return parsed.success ? parsed.data : BenchmarkSettingsSchema.parse({});
}

export async function setBenchmarkSettings(
  ctx: CoordinatorContext,
  input: BenchmarkSettingsInput,
  actor: string,
): Promise<BenchmarkSettings> {
  const parsed = BenchmarkSettingsSchema.safeParse(input);
  if (!parsed.success) {
    throw new CoordinatorError(
      'BadRequest',
      `benchmark settings: ${z.prettifyError(parsed.error)}`,
    );
  }
  const value = parsed.data;
  await ctx.db
    .insert(cooperativeSettings)
    .values({ key: SETTINGS_KEY, value, updatedAt: ctx.now() })
    .onConflictDoUpdate({ target: cooperativeSettings.key, set: { value, updatedAt: ctx.now() } });
  await audit(ctx.db, actor, 'benchmarks.settings', null, value);
  return value;
}

/** What an admin asks for when running a benchmark; unset fields come from the settings. */
export const BenchmarkRunInputSchema = z
  .object({
    period: z.string().min(1).max(20),
    kpis: z.array(KpiIdSchema).min(1).max(KPI_IDS.length).optional(),
    peerGroup: PeerGroupSchema.default({}),
    minContributors: z.number().int().min(2).max(10_000).optional(),
    dp: z.enum(['off', 'central', 'distributed']).optional(),
    epsilon: z.number().positive().max(100).optional(),
  })
  .strict();
export type BenchmarkRunInput = z.input<typeof BenchmarkRunInputSchema>;

/** The noise standard deviation on each entry of the released sum (0 without DP). */
function entrySigma(rc: RoundConfig, survivors: number): number {
  const dp = rc.model.dp;
  if (dp.mode === 'off') return 0;
  if (dp.mode === 'central') return dp.noiseMultiplier * dp.clipNorm;
  // Distributed: every survivor added Skellam(μ) in quantized units (variance 2μ each).
  const scale = quantizationScale(secAggConfigOf(rc).quant);
  return Math.sqrt(2 * rc.noise!.perClientMu * survivors) / scale;
}

/**
 * Starts a benchmark run for a period: a secure-aggregation round of kind `benchmark` over every
 * approved member that contributes at least one of the KPIs (its consent) and whose benchmark ε
 * budget allows one more run. Each member's node computes its KPIs itself; the coordinator only
 * ever sees the sum. Refuses, naming the rule, when fewer members than the minimum could take
 * part: a peer group (which each node decides for itself) can only be smaller still.
 */
export async function startBenchmark(
  ctx: CoordinatorContext,
  raw: BenchmarkRunInput,
  actor: string,
): Promise<RoundConfig> {
  const parsedInput = BenchmarkRunInputSchema.safeParse(raw);
  if (!parsedInput.success) {
    throw new CoordinatorError(
      'BadRequest',
      `benchmark run: ${z.prettifyError(parsedInput.error)}`,
    );
  }
  const input = parsedInput.data;
  try {
    parsePeriod(input.period);
  } catch (err) {
    throw new CoordinatorError('BadRequest', (err as Error).message);
  }
  const settings = await getBenchmarkSettings(ctx);
  const kpis = input.kpis ?? [...KPI_IDS];
  const layout = { kpis, bins: settings.bins };
  const minContributors = input.minContributors ?? settings.minContributors;
  const mode = input.dp ?? settings.dp.mode;
  const epsilon = input.epsilon ?? settings.dp.epsilonPerRun;
  const group = peerGroupLabel(input.peerGroup);
  const active = await ctx.db
    .select({ id: rounds.id })
    .from(rounds)
    .where(
      and(
        eq(rounds.kind, 'benchmark'),
        inArray(rounds.status, ['open', 'advertise', 'shares', 'masked', 'unmask']),
      ),
    );
  if (active.length > 0) {
    throw new CoordinatorError(
      'Conflict',
      `a benchmark run is already in progress (${active[0]!.id})`,
    );
  }
  const sensitivity = benchmarkSensitivity(layout);
  const noiseMultiplier =
    mode === 'off'
      ? 0
      : calibrateNoiseMultiplier({
          targetEpsilon: epsilon,
          samplingRate: 1,
          steps: 1,
          delta: settings.dp.delta,
        }).noiseMultiplier;
  const model: ModelConfig = ModelConfigSchema.parse({
    dp: {
      mode,
      clipNorm: sensitivity,
      noiseMultiplier,
      delta: settings.dp.delta,
      epsilonBudget: settings.dp.epsilonBudget,
    },
    secagg: { minClients: minContributors },
    samplingRate: 1,
    maxWeight: 1,
    evalRange: 1,
    stageTimeoutMs: settings.stageTimeoutMs,
  });

  // Who may take part: approved, an active key, consent to at least one asked KPI, budget left.
  const rows = await activeMembers(ctx);
  const ledger =
    mode === 'off'
      ? undefined
      : await ledgerFor(
          ctx,
          BENCHMARK_ACCOUNT,
          rows.map((r) => r.id),
          settings.dp.delta,
        );
  const plan =
    mode === 'distributed'
      ? planDistributedDp({
          clients: Math.max(rows.length, 2),
          minSurvivors: Math.min(minContributors, Math.max(rows.length, 2)),
          clipNorm: sensitivity,
          noiseMultiplier,
          dim: benchmarkDim(layout),
        })
      : undefined;
  const excluded = { consent: 0, budget: 0 };
  const cohort: typeof rows = [];
  const consents = await getConsents(
    ctx,
    rows.map((r) => r.id),
  );
  for (const r of rows) {
    const consent = consents.get(r.id);
    if (!kpis.some((k) => consent?.kpis.includes(k))) {
      excluded.consent++;
      continue;
    }
    if (ledger) {
      const event = plan
        ? skellamRoundEvent(BENCHMARK_ACCOUNT, r.id, plan.skellam, 1, ctx.now())
        : roundEvent(BENCHMARK_ACCOUNT, r.id, noiseMultiplier, 1, ctx.now());
      const limits = epsilonLimits(
        consent,
        { id: BENCHMARK_ACCOUNT, kind: BENCHMARK_ACCOUNT, budget: settings.dp.epsilonBudget },
        ctx.now(),
      );
      const over = limits.some(
        (l) =>
          (l.since ? ledger.since(l.since) : ledger).wouldExceed(
            budget(l.epsilon, settings.dp.delta),
            event,
          ).exceeds,
      );
      if (over) {
        excluded.budget++;
        continue;
      }
    }
    cohort.push(r);
  }
  if (cohort.length < minContributors) {
    throw new CoordinatorError(
      'Conflict',
      `benchmark ${input.period} (${group}): ${cohort.length} members could contribute (${excluded.consent} without consent to these KPIs, ${excluded.budget} out of privacy budget); nothing is released below ${minContributors} contributors (minContributors)`,
    );
  }
  const n = cohort.length;
  const neighbors = defaultNeighbours(n);
  const threshold = Math.min(
    Math.max(Math.floor((neighbors + 1) / 2) + 1, Math.ceil((2 / 3) * (neighbors + 1))),
    neighbors + 1,
  );
  const suffix = new Uint8Array(6);
  ctx.random.fill(suffix);
  const id: RoundId = toRoundId(`benchmark-${input.period}-${Buffer.from(suffix).toString('hex')}`);
  const rc: RoundConfig = {
    roundId: id,
    modelId: BENCHMARK_ACCOUNT,
    kind: 'benchmark',
    baseVersion: 0,
    secagg: {
      clients: cohort.map((c) => ({
        id: c.id,
        identityKey: Buffer.from(c.publicKey).toString('hex'),
      })),
      dim: benchmarkDim(layout),
      clipRange: 1,
      maxWeight: 1,
      neighbors,
      threshold,
      minSurvivors: Math.min(minContributors, n),
      noiseHeadroom: 0,
    },
    model,
    population: cohort.map((c) => c.id),
    metrics: [],
    benchmark: {
      period: input.period,
      kpis,
      bins: settings.bins,
      peerGroup: input.peerGroup,
      minContributors,
      confidence: settings.confidence,
    },
  };
  if (mode === 'distributed') {
    const p = planDistributedDp({
      clients: n,
      minSurvivors: rc.secagg.minSurvivors,
      clipNorm: sensitivity,
      noiseMultiplier,
      dim: rc.secagg.dim,
    });
    rc.secagg.noiseHeadroom = p.noiseHeadroom;
    rc.noise = { perClientMu: p.perClientMu, skellam: p.skellam };
  }
  secAggConfigOf(rc);
  await ctx.db.transaction(async (tx) => {
    await tx.insert(rounds).values({
      id,
      modelId: null,
      kind: 'benchmark',
      status: 'advertise',
      config: rc,
      baseVersion: null,
      stageDeadline: new Date(ctx.now().getTime() + model.stageTimeoutMs),
    });
    await tx
      .insert(roundParticipants)
      .values(cohort.map((c, clientIndex) => ({ roundId: id, memberId: c.id, clientIndex })));
    await audit(tx, actor, 'benchmark.start', id, {
      period: input.period,
      peerGroup: group,
      kpis,
      cohort: n,
      dp: mode,
      epsilon: mode === 'off' ? 0 : epsilon,
    });
  });
  rememberMembers(ctx, cohort);
  ctx.log.info({ round: id, period: input.period, group, cohort: n }, 'benchmark started');
  return rc;
}

/**
 * The release of a finished benchmark round: central DP adds Gaussian noise to every entry of the
 * sum (distributed DP's noise is already in it), each KPI is released by {@link releaseKpi} — or
 * withheld below the minimum number of contributors — and each member of the cohort gets its
 * ledger entry. Runs inside the caller's transaction.
 */
export async function releaseBenchmark(
  ctx: CoordinatorContext,
  tx: Pick<CoordinatorContext, 'db'>['db'],
  rc: RoundConfig,
  result: AggregateResult,
): Promise<KpiRelease[]> {
  const spec = rc.benchmark;
  if (!spec) throw new Error(`round ${rc.roundId} has no benchmark specification`);
  const layout = { kpis: spec.kpis, bins: spec.bins };
  const dp = rc.model.dp;
  const sum = Float64Array.from(result.sum);
  if (dp.mode === 'central') {
    const noise = gaussianVector(ctx.random, {
      length: sum.length,
      stddev: dp.noiseMultiplier * dp.clipNorm,
    });
    for (let i = 0; i < sum.length; i++) sum[i]! += noise[i]!;
  }
  const sigma = entrySigma(rc, result.survivors.length);
  const releases = decodeBenchmark(layout, sum).map((agg) =>
    releaseKpi(agg, {
      sigma,
      minContributors: spec.minContributors,
      bins: spec.bins,
      confidence: spec.confidence,
    }),
  );
  const group = peerGroupLabel(spec.peerGroup);
  await tx.insert(benchmarkResults).values(
    releases.map((r) => ({
      roundId: rc.roundId,
      period: spec.period,
      peerGroup: group,
      kpi: r.kpi,
      status: r.status,
      release: r as unknown as Record<string, unknown>,
    })),
  );
  return releases;
}

export interface PublishedBenchmark {
  roundId: string;
  period: string;
  /** The peer group's readable label (`cooperative` for everyone). */
  peerGroup: string;
  /** The peer group's rule, for a node to tell whether it belongs. */
  group: PeerGroup;
  at: string;
  dp: { mode: string; epsilon: number | null; noiseSd: number };
  contributors: number;
  kpis: KpiRelease[];
}

/**
 * Released benchmarks, newest first: one entry per run that ended, with its KPI releases (the
 * cooperative's figures only; withheld KPIs carry their reason and nothing else). Filter by period
 * and peer-group label.
 */
export async function publishedBenchmarks(
  ctx: Pick<CoordinatorContext, 'db'>,
  filter: { period?: string; peerGroup?: PeerGroup | string; limit?: number } = {},
): Promise<PublishedBenchmark[]> {
  const group =
    filter.peerGroup === undefined
      ? undefined
      : typeof filter.peerGroup === 'string'
        ? filter.peerGroup
        : peerGroupLabel(filter.peerGroup);
  const rows = await ctx.db
    .select({
      roundId: benchmarkResults.roundId,
      period: benchmarkResults.period,
      peerGroup: benchmarkResults.peerGroup,
      release: benchmarkResults.release,
      at: benchmarkResults.createdAt,
      config: rounds.config,
    })
    .from(benchmarkResults)
    .innerJoin(rounds, eq(rounds.id, benchmarkResults.roundId))
    .where(
      and(
        filter.period ? eq(benchmarkResults.period, filter.period) : undefined,
        group ? eq(benchmarkResults.peerGroup, group) : undefined,
      ),
    )
    .orderBy(desc(benchmarkResults.createdAt), asc(benchmarkResults.id));
  const runs = new Map<string, PublishedBenchmark>();
  for (const r of rows) {
    let run = runs.get(r.roundId);
    if (!run) {
      const rc = r.config as unknown as RoundConfig;
      const release = r.release as unknown as KpiRelease;
      run = {
        roundId: r.roundId,
        period: r.period,
        peerGroup: r.peerGroup,
        group: rc.benchmark?.peerGroup ?? {},
        at: r.at.toISOString(),
        dp: {
          mode: rc.model.dp.mode,
          epsilon: rc.model.dp.mode === 'off' ? null : epsilonOfRun(rc),
          noiseSd: release.noiseSd,
        },
        contributors: 0,
        kpis: [],
      };
      runs.set(r.roundId, run);
    }
    const release = r.release as unknown as KpiRelease;
    run.kpis.push(release);
    run.contributors = Math.max(run.contributors, release.contributors);
  }
  const order = new Map(KPI_IDS.map((k, i) => [k, i]));
  const out = [...runs.values()].slice(0, filter.limit ?? 100);
  for (const run of out) run.kpis.sort((a, b) => order.get(a.kpi)! - order.get(b.kpi)!);
  return out;
}

/** ε one run spent per member (from the round's own noise parameters). */
function epsilonOfRun(rc: RoundConfig): number {
  const at = new Date(0);
  const id = rc.population[0] ?? ('member' as NodeId);
  const event =
    rc.model.dp.mode === 'distributed' && rc.noise
      ? skellamRoundEvent(BENCHMARK_ACCOUNT, id, rc.noise.skellam, 1, at)
      : roundEvent(BENCHMARK_ACCOUNT, id, rc.model.dp.noiseMultiplier, 1, at);
  return new PrivacyLedger({ delta: asDelta(rc.model.dp.delta), events: [event] }).spent({
    modelId: BENCHMARK_ACCOUNT,
    memberId: id,
    unit: 'member',
  }).epsilon;
}

/** A KPI's released history over periods (the cooperative or one peer group). */
export async function benchmarkHistory(
  ctx: Pick<CoordinatorContext, 'db'>,
  kpi: KpiId,
  peerGroup = 'cooperative',
): Promise<{ period: string; roundId: string; at: string; release: KpiRelease }[]> {
  const rows = await ctx.db
    .select()
    .from(benchmarkResults)
    .where(and(eq(benchmarkResults.kpi, kpi), eq(benchmarkResults.peerGroup, peerGroup)))
    .orderBy(asc(benchmarkResults.period), asc(benchmarkResults.createdAt));
  // The latest run of each period stands for it.
  const byPeriod = new Map<string, (typeof rows)[number]>();
  for (const r of rows) byPeriod.set(r.period, r);
  return [...byPeriod.values()].map((r) => ({
    period: r.period,
    roundId: r.roundId,
    at: r.createdAt.toISOString(),
    release: r.release as unknown as KpiRelease,
  }));
}

/** How long a scheduled run that failed to start or to finish waits before it is tried again. */
export const SCHEDULE_RETRY_MS = 3600_000;

/**
 * The monthly benchmark schedule (`monthlyOnDay`): from that day on, if the month before has no
 * cooperative-wide benchmark run yet (running or released), starts one. A run that failed, or a
 * start the coordinator refused (e.g. too few members consent), is tried again an hour later.
 * Returns the period started, if any.
 *
 * @example
 * setInterval(() => void benchmarkScheduleTick(ctx, (i) => host.startBenchmark(i, 'schedule')), 15_000);
 */
export async function benchmarkScheduleTick(
  ctx: CoordinatorContext,
  start: (input: BenchmarkRunInput) => Promise<unknown>,
): Promise<string | null> {
  const settings = await getBenchmarkSettings(ctx);
  const now = ctx.now();
  if (settings.monthlyOnDay === null || now.getUTCDate() < settings.monthlyOnDay) return null;
  const period = previousMonth(now);
  const recent = await ctx.db
    .select({ status: rounds.status, config: rounds.config, createdAt: rounds.createdAt })
    .from(rounds)
    .where(eq(rounds.kind, 'benchmark'))
    .orderBy(desc(rounds.createdAt))
    .limit(200);
  const runs = recent.filter((r) => {
    const b = (r.config as unknown as RoundConfig).benchmark;
    return b?.period === period && peerGroupLabel(b.peerGroup) === 'cooperative';
  });
  if (runs.some((r) => r.status !== 'failed')) return null;
  const lastTry = Math.max(
    runs[0]?.createdAt.getTime() ?? 0,
    refusals.get(ctx.db)?.get(period)?.getTime() ?? 0,
  );
  if (now.getTime() - lastTry < SCHEDULE_RETRY_MS) return null;
  try {
    await start({ period });
    return period;
  } catch (err) {
    if (!refusals.has(ctx.db)) refusals.set(ctx.db, new Map());
    refusals.get(ctx.db)!.set(period, now);
    ctx.log.warn({ period, reason: (err as Error).message }, 'scheduled benchmark not started');
    return null;
  }
}

/**
 * When a scheduled start was last refused, per coordinator and period (in memory: a restarted
 * coordinator simply tries again).
 */
const refusals = new WeakMap<object, Map<string, Date>>();
