import { and, asc, count, desc, eq, notInArray } from 'drizzle-orm';
import type { NodeId } from '@coopfl/protocol';
import type { ModelKind } from '@coopfl/protocol/models';
import { MODEL_KINDS, MODEL_METRICS } from '@coopfl/protocol/models';
import type { CoordinatorContext } from '../context';
import { BENCHMARK_ACCOUNT, members, metrics, modelVersions, privacyLedger, rounds } from '../db';
import { getBenchmarkSettings } from './benchmarks';
import { epsilonLimits, getConsent } from './consent';
import { ModelConfigSchema } from './model-config';
import { getModel, listModels } from './models';

/**
 * The baselines each of the cooperative's model kinds reports beside its own metrics, and which
 * of its metrics they are measured on (DESIGN §7: every report shows them).
 */
export const MODEL_BASELINES: Record<ModelKind, Record<string, readonly string[]>> = {
  demand: { seasonal_naive: ['wape', 'mase'] },
  recommendation: { popularity: ['hit_rate_10', 'ndcg_10'] },
  fraud: { amount_rule: ['pr_auc'] },
};

/**
 * What an evaluation round asks members for when the admin names nothing: the kind's metrics and
 * its baselines as `<metric>@<baseline>`; undefined for other kinds (the round host's default).
 *
 * @example
 * defaultEvalMetrics('demand'); // ['wape', 'mase', 'loss', 'wape@seasonal_naive', 'mase@seasonal_naive']
 */
export function defaultEvalMetrics(kind: string): string[] | undefined {
  if (!(MODEL_KINDS as readonly string[]).includes(kind)) return undefined;
  const k = kind as ModelKind;
  return [
    ...MODEL_METRICS[k],
    ...Object.entries(MODEL_BASELINES[k]).flatMap(([b, ms]) => ms.map((m) => `${m}@${b}`)),
  ];
}

/** Metrics where lower is better (errors, losses); all others (hit rate, PR-AUC, …) higher. */
export const lowerIsBetter = (metric: string): boolean => /^(wape|mase|loss|mae|rmse)/.test(metric);

/**
 * Baseline figures travel as metrics named `<metric>@<baseline>` (e.g. `wape@seasonal_naive`),
 * averaged through the same secure aggregation as the model's own.
 */
export function splitMetricName(name: string): { metric: string; baseline: string | null } {
  const at = name.indexOf('@');
  return at < 0
    ? { metric: name, baseline: null }
    : { metric: name.slice(0, at), baseline: name.slice(at + 1) };
}

/**
 * A model's quality over rounds: one point per evaluation round (the cooperative's average over
 * the members that evaluated, never one shop's figure), the latest baseline figures as reference
 * lines, its versions, and the best version against the latest for each metric.
 *
 * @example
 * const h = await modelHistory(ctx, 'demand');
 * h.points.map((p) => [p.version, p.values.wape]);
 */
export async function modelHistory(ctx: CoordinatorContext, modelId: string) {
  const model = await getModel(ctx, modelId);
  const rows = await ctx.db
    .select({
      roundId: metrics.roundId,
      name: metrics.name,
      value: metrics.value,
      count: metrics.count,
      at: metrics.createdAt,
      version: rounds.baseVersion,
    })
    .from(metrics)
    .innerJoin(rounds, eq(rounds.id, metrics.roundId))
    .where(eq(metrics.modelId, modelId))
    .orderBy(asc(metrics.createdAt), asc(metrics.id));
  const byRound = new Map<
    string,
    {
      roundId: string;
      version: number;
      at: string;
      members: number;
      values: Record<string, number>;
    }
  >();
  const baselines: Record<string, Record<string, number>> = {};
  for (const r of rows) {
    const { metric, baseline } = splitMetricName(r.name);
    if (baseline) {
      (baselines[metric] ??= {})[baseline] = r.value;
      continue;
    }
    let p = byRound.get(r.roundId!);
    if (!p) {
      p = {
        roundId: r.roundId!,
        version: r.version ?? 0,
        at: r.at.toISOString(),
        members: r.count,
        values: {},
      };
      byRound.set(r.roundId!, p);
    }
    p.values[metric] = r.value;
  }
  const points = [...byRound.values()];
  const names = [...new Set(points.flatMap((p) => Object.keys(p.values)))];
  const best = names.map((metric) => {
    const withIt = points.filter((p) => p.values[metric] !== undefined);
    const better = (a: number, b: number) => (lowerIsBetter(metric) ? a < b : a > b);
    const top = withIt.reduce<(typeof points)[number] | undefined>(
      (acc, p) => (!acc || better(p.values[metric]!, acc.values[metric]!) ? p : acc),
      undefined,
    );
    const latest = withIt.at(-1);
    return {
      metric,
      lowerIsBetter: lowerIsBetter(metric),
      best: top ? { version: top.version, value: top.values[metric]! } : null,
      latest: latest ? { version: latest.version, value: latest.values[metric]! } : null,
    };
  });
  const versions = await ctx.db
    .select({
      version: modelVersions.version,
      roundId: modelVersions.roundId,
      createdAt: modelVersions.createdAt,
    })
    .from(modelVersions)
    .where(eq(modelVersions.modelId, modelId))
    .orderBy(desc(modelVersions.version))
    .limit(200);
  return {
    model: { id: model.id, name: model.name, kind: model.kind, dim: model.dim },
    metrics: names,
    points,
    baselines,
    best,
    versions: versions.map((v) => ({ ...v, createdAt: v.createdAt.toISOString() })),
  };
}

/** ε spent per model (member-level): the latest ledger total of each (model, member). */
async function spentByModel(ctx: CoordinatorContext, memberId?: string) {
  const rows = await ctx.db
    .select({
      modelId: privacyLedger.modelId,
      memberId: privacyLedger.memberId,
      epsilon: privacyLedger.epsilon,
    })
    .from(privacyLedger)
    .where(memberId ? eq(privacyLedger.memberId, memberId as NodeId) : undefined)
    .orderBy(desc(privacyLedger.id));
  const latest = new Map<string, number>();
  for (const r of rows) {
    const key = `${r.modelId}\u0000${r.memberId}`;
    if (!latest.has(key)) latest.set(key, r.epsilon);
  }
  const out = new Map<string, number>();
  for (const [key, eps] of latest) {
    const modelId = key.split('\u0000')[0]!;
    out.set(modelId, Math.max(out.get(modelId) ?? 0, eps));
  }
  return out;
}

/**
 * Privacy per model against its budget. For an admin, the most any member has spent; for a
 * member, its own ε with its own cap (from its consent) beside the cooperative's budget.
 */
export async function privacySummary(ctx: CoordinatorContext, memberId?: string) {
  const spent = await spentByModel(ctx, memberId);
  const consent = memberId ? await getConsent(ctx, memberId) : undefined;
  const bench = await getBenchmarkSettings(ctx);
  const benchLimits = epsilonLimits(
    consent,
    { id: BENCHMARK_ACCOUNT, kind: BENCHMARK_ACCOUNT, budget: bench.dp.epsilonBudget },
    ctx.now(),
  );
  const models = (await listModels(ctx)).map((m) => {
    const config = ModelConfigSchema.parse(m.config);
    const limits = epsilonLimits(
      consent,
      { id: m.id, kind: m.kind, budget: config.dp.epsilonBudget },
      ctx.now(),
    );
    return {
      modelId: m.id,
      dpMode: config.dp.mode,
      spent: spent.get(m.id) ?? 0,
      budget: config.dp.epsilonBudget,
      ownCap: limits.find((l) => l.label !== 'the cooperative budget')?.epsilon ?? null,
      delta: config.dp.delta,
      unit: 'member' as const,
    };
  });
  // The shared benchmarks have their own account and budget (shown once a run has spent any).
  const benchSpent = spent.get(BENCHMARK_ACCOUNT);
  return benchSpent === undefined
    ? models
    : [
        ...models,
        {
          modelId: BENCHMARK_ACCOUNT,
          dpMode: bench.dp.mode,
          spent: benchSpent,
          budget: bench.dp.epsilonBudget,
          ownCap: benchLimits.find((l) => l.label !== 'the cooperative budget')?.epsilon ?? null,
          delta: bench.dp.delta,
          unit: 'member' as const,
        },
      ];
}

/**
 * The overview page's figures: membership counts, rounds in progress, each model's latest
 * released quality, and privacy spent (the caller's own when it is a member).
 */
export async function overview(ctx: CoordinatorContext, memberId?: string) {
  const byStatus = await ctx.db
    .select({ status: members.status, n: count() })
    .from(members)
    .groupBy(members.status);
  const n = (s: string) => Number(byStatus.find((r) => r.status === s)?.n ?? 0);
  const active = await ctx.db
    .select()
    .from(rounds)
    .where(notInArray(rounds.status, ['done', 'failed']))
    .orderBy(desc(rounds.createdAt))
    .limit(20);
  const models = await listModels(ctx);
  const quality = await Promise.all(
    models.map(async (m) => {
      const [last] = await ctx.db
        .select({ id: rounds.id, version: rounds.baseVersion, finishedAt: rounds.finishedAt })
        .from(rounds)
        .where(and(eq(rounds.modelId, m.id), eq(rounds.kind, 'eval'), eq(rounds.status, 'done')))
        .orderBy(desc(rounds.finishedAt))
        .limit(1);
      const values = last
        ? await ctx.db
            .select({ name: metrics.name, value: metrics.value })
            .from(metrics)
            .where(eq(metrics.roundId, last.id))
        : [];
      return {
        id: m.id,
        kind: m.kind,
        latestVersion: m.latestVersion,
        evaluatedVersion: last?.version ?? null,
        evaluatedAt: last?.finishedAt?.toISOString() ?? null,
        quality: last
          ? Object.fromEntries(
              values.filter((v) => !v.name.includes('@')).map((v) => [v.name, v.value]),
            )
          : null,
      };
    }),
  );
  return {
    members: { approved: n('approved'), pending: n('pending'), revoked: n('revoked') },
    activeRounds: active.map((r) => ({
      id: r.id,
      modelId: r.modelId,
      kind: r.kind,
      status: r.status,
      createdAt: r.createdAt.toISOString(),
    })),
    models: quality,
    privacy: await privacySummary(ctx, memberId),
  };
}
