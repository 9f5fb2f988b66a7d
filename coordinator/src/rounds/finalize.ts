import { desc, eq, sql } from 'drizzle-orm';
import type { ProtocolError } from '@coopfl/protocol';
import type { AggregateResult } from '@coopfl/protocol/secagg';
import {
  createOptimizer,
  decodeOptimizerState,
  encodeOptimizerState,
  withCentralDp,
} from '@coopfl/protocol/strategy';
import type { CoordinatorContext } from '../context';
import { metrics, modelVersions, privacyLedger, rounds } from '../db';
import { audit } from '../services/audit';
import { releaseBenchmark } from '../services/benchmarks';
import { bytesToWeights, getVersion, weightsToBytes } from '../services/models';
import { ledgerFor, roundEvent, skellamRoundEvent } from '../services/privacy';
import { asNoiseMultiplier } from '@coopfl/protocol/dp';
import type { RoundConfig } from './round-config';

/**
 * Releases a finished round in one transaction: for a training round the server optimizer (wrapped
 * in central DP when configured) turns the aggregate into the next model version, and every member
 * of the sampling population gets its ledger entry; for an evaluation round the averaged metrics
 * are stored. Nothing is written for a failed round but its status: no model, no privacy spent.
 */
export async function finalizeRound(
  ctx: CoordinatorContext,
  rc: RoundConfig,
  result: AggregateResult,
): Promise<number | null> {
  const survivors = result.survivors.map((i) => rc.secagg.clients[i]!.id);
  const stats = {
    survivors: survivors.length,
    dropped: result.dropped.length,
    weight: result.weight,
  };
  if (rc.kind === 'eval') {
    await ctx.db.transaction(async (tx) => {
      const values = rc.metrics.map((name, i) => ({
        roundId: rc.roundId,
        modelId: rc.modelId,
        name,
        value: result.mean[i]!,
        count: survivors.length,
      }));
      if (values.length > 0) await tx.insert(metrics).values(values);
      const means = Object.fromEntries(rc.metrics.map((name, i) => [name, result.mean[i]!]));
      await tx
        .update(modelVersions)
        .set({
          metrics: sql`${modelVersions.metrics} || ${JSON.stringify({ eval: means, evalMembers: survivors.length })}::jsonb`,
        })
        .where(
          sql`${modelVersions.modelId} = ${rc.modelId} and ${modelVersions.version} = ${rc.baseVersion}`,
        );
      await tx
        .update(rounds)
        .set({ status: 'done', finishedAt: ctx.now(), stageDeadline: null })
        .where(eq(rounds.id, rc.roundId));
      await audit(tx, 'coordinator', 'round.done', rc.roundId, stats);
    });
    return null;
  }
  if (rc.kind === 'benchmark') {
    await ctx.db.transaction(async (tx) => {
      const releases = await releaseBenchmark(ctx, tx, rc, result);
      await recordSpend(ctx, tx, rc);
      await tx
        .update(rounds)
        .set({ status: 'done', finishedAt: ctx.now(), stageDeadline: null })
        .where(eq(rounds.id, rc.roundId));
      await audit(tx, 'coordinator', 'round.done', rc.roundId, {
        ...stats,
        released: releases.filter((r) => r.status === 'released').map((r) => r.kpi),
        withheld: releases.filter((r) => r.status === 'withheld').map((r) => r.kpi),
      });
    });
    return null;
  }
  const base = await getVersion(ctx, rc.modelId, rc.baseVersion);
  const dp = rc.model.dp;
  const plain = createOptimizer(rc.model.strategy);
  const optimizer =
    dp.mode === 'central'
      ? withCentralDp(plain, {
          clipNorm: dp.clipNorm,
          noiseMultiplier: dp.noiseMultiplier,
          random: ctx.random,
        })
      : plain;
  const state = base.optimizerState ? decodeOptimizerState(base.optimizerState) : undefined;
  const step = optimizer.step(bytesToWeights(base.weights), result, state);
  return ctx.db.transaction(async (tx) => {
    const [latest] = await tx
      .select({ version: modelVersions.version })
      .from(modelVersions)
      .where(eq(modelVersions.modelId, rc.modelId))
      .orderBy(desc(modelVersions.version))
      .limit(1);
    const version = (latest?.version ?? rc.baseVersion) + 1;
    await tx.insert(modelVersions).values({
      modelId: rc.modelId,
      version,
      weights: weightsToBytes(step.weights),
      optimizerState: encodeOptimizerState(step.state),
      roundId: rc.roundId,
      metrics: { round: stats },
    });
    await recordSpend(ctx, tx, rc);
    await tx
      .update(rounds)
      .set({ status: 'done', resultVersion: version, finishedAt: ctx.now(), stageDeadline: null })
      .where(eq(rounds.id, rc.roundId));
    await audit(tx, 'coordinator', 'round.done', rc.roundId, { ...stats, version });
    return version;
  });
}

/**
 * Ledger entries of a released round under DP: every member of the sampling population spends,
 * sampled or not (Poisson subsampling), on the round's account (its model, or `benchmarks`).
 */
async function recordSpend(
  ctx: CoordinatorContext,
  tx: Parameters<Parameters<CoordinatorContext['db']['transaction']>[0]>[0],
  rc: RoundConfig,
): Promise<void> {
  const dp = rc.model.dp;
  if (dp.mode === 'off') return;
  const skellam = dp.mode === 'distributed' ? rc.noise?.skellam : undefined;
  if (dp.mode === 'distributed' && !skellam)
    throw new Error(`round ${rc.roundId} has no noise plan`);
  let after = await ledgerFor({ db: tx }, rc.modelId, rc.population, dp.delta);
  const rows = rc.population.map((memberId) => {
    const at = ctx.now();
    const event = skellam
      ? skellamRoundEvent(rc.modelId, memberId, skellam, rc.model.samplingRate, at)
      : roundEvent(rc.modelId, memberId, dp.noiseMultiplier, rc.model.samplingRate, at);
    after = after.with(event);
    return {
      modelId: rc.modelId,
      memberId,
      roundId: rc.roundId,
      unit: 'member' as const,
      mechanism: skellam ? 'skellam' : 'gaussian',
      // For Skellam, the Gaussian-equivalent multiplier σ/Δ₂ (informational; ε uses params).
      noiseMultiplier: asNoiseMultiplier(
        skellam ? Math.sqrt(2 * skellam.mu) / skellam.l2Sensitivity : dp.noiseMultiplier,
      ),
      params: skellam ?? {},
      samplingRate: rc.model.samplingRate,
      steps: 1,
      epsilon: 0,
      delta: dp.delta,
    };
  });
  for (const row of rows) {
    row.epsilon = after.spent({
      modelId: rc.modelId,
      memberId: row.memberId,
      unit: 'member',
    }).epsilon;
  }
  if (rows.length > 0)
    await tx.insert(privacyLedger).values(rows as (typeof privacyLedger.$inferInsert)[]);
}

/** Marks a round failed with the protocol's named error; nothing else is written. */
export async function failRound(
  ctx: CoordinatorContext,
  rc: RoundConfig,
  error: ProtocolError,
): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    await tx
      .update(rounds)
      .set({ status: 'failed', error: error.message, finishedAt: ctx.now(), stageDeadline: null })
      .where(eq(rounds.id, rc.roundId));
    await audit(tx, 'coordinator', 'round.failed', rc.roundId, { code: error.code });
  });
}
