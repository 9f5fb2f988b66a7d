import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { NodeId, RoundId } from '@coopfl/protocol';
import { randomUnit, roundId as toRoundId } from '@coopfl/protocol';
import { defaultNeighbours } from '@coopfl/protocol/secagg';
import type { CoordinatorContext } from '../context';
import type { Member } from '../db';
import { memberKeys, members, roundParticipants, rounds } from '../db';
import { CoordinatorError } from '../errors';
import { audit } from '../services/audit';
import { allowsModel, epsilonLimits, getConsents } from '../services/consent';
import { rememberMembers } from '../services/members';
import { getModel, latestVersion } from '../services/models';
import { trainingWeightCap } from '../services/model-config';
import { budget, ledgerFor, roundEvent, skellamRoundEvent } from '../services/privacy';
import { planDistributedDp } from './distributed-dp';
import type { RoundConfig } from './round-config';
import { secAggConfigOf } from './round-config';

const ACTIVE = ['open', 'advertise', 'shares', 'masked', 'unmask'] as const;

export interface Eligibility {
  eligible: { id: NodeId; publicKey: Uint8Array; member: Member }[];
  excluded: { consent: number; budget: number };
}

/** Approved members with their active key, in id order: who could take part in any round. */
export function activeMembers(ctx: Pick<CoordinatorContext, 'db'>) {
  return ctx.db
    .select({ id: members.id, publicKey: memberKeys.publicKey, member: members })
    .from(members)
    .innerJoin(memberKeys, and(eq(memberKeys.memberId, members.id), isNull(memberKeys.revokedAt)))
    .where(eq(members.status, 'approved'))
    .orderBy(members.id);
}

/**
 * Members that may take part in a round of this model: approved, with an active key, whose consent
 * allows the model and whose ε budget (the cooperative's, or the member's own lower cap) would not
 * be exceeded by one more round.
 */
export async function eligibleMembers(
  ctx: CoordinatorContext,
  model: Awaited<ReturnType<typeof getModel>>,
): Promise<Eligibility> {
  const rows = await activeMembers(ctx);
  const dp = model.parsed.dp;
  const ledger =
    dp.mode !== 'off'
      ? await ledgerFor(
          ctx,
          model.id,
          rows.map((r) => r.id),
          dp.delta,
        )
      : undefined;
  // Distributed DP spends a Skellam event sized for this many members (the cohort, when every
  // eligible member is sampled; a sampled cohort is smaller, which only lowers the spend per unit
  // of noise, so the check stays on the safe side within the discreteness term).
  const planned =
    dp.mode === 'distributed'
      ? planDistributedDp({
          clients: Math.max(rows.length, 2),
          minSurvivors: Math.min(model.parsed.secagg.minClients, Math.max(rows.length, 2)),
          clipNorm: dp.clipNorm,
          noiseMultiplier: dp.noiseMultiplier,
          dim: model.dim,
        })
      : undefined;
  const excluded = { consent: 0, budget: 0 };
  const eligible: Eligibility['eligible'] = [];
  const consents = await getConsents(
    ctx,
    rows.map((r) => r.id),
  );
  for (const r of rows) {
    const consent = consents.get(r.id);
    if (!allowsModel(consent, model)) {
      excluded.consent++;
      continue;
    }
    if (ledger) {
      const event = planned
        ? skellamRoundEvent(model.id, r.id, planned.skellam, model.parsed.samplingRate, ctx.now())
        : roundEvent(model.id, r.id, dp.noiseMultiplier, model.parsed.samplingRate, ctx.now());
      const limits = epsilonLimits(
        consent,
        { id: model.id, kind: model.kind, budget: dp.epsilonBudget },
        ctx.now(),
      );
      const over = limits.some(
        (l) =>
          (l.since ? ledger.since(l.since) : ledger).wouldExceed(budget(l.epsilon, dp.delta), event)
            .exceeds,
      );
      if (over) {
        excluded.budget++;
        continue;
      }
    }
    eligible.push(r);
  }
  return { eligible, excluded };
}

/**
 * Starts a round: Poisson-samples the cohort from the eligible members (rate `samplingRate`, so the
 * accountant's subsampled-Gaussian analysis applies exactly), fixes the secure-aggregation
 * parameters, and persists the round, its participants and its configuration in one transaction.
 */
export async function startRound(
  ctx: CoordinatorContext,
  input: { modelId: string; kind?: 'train' | 'eval'; metrics?: string[]; actor: string },
): Promise<RoundConfig> {
  const kind = input.kind ?? 'train';
  const model = await getModel(ctx, input.modelId);
  const cfg = model.parsed;
  const active = await ctx.db
    .select({ id: rounds.id })
    .from(rounds)
    .where(
      and(eq(rounds.modelId, model.id), eq(rounds.kind, kind), inArray(rounds.status, [...ACTIVE])),
    );
  if (active.length > 0) {
    throw new CoordinatorError(
      'Conflict',
      `model "${model.id}" already has a ${kind} round in progress (${active[0]!.id})`,
    );
  }
  const { eligible, excluded } = await eligibleMembers(ctx, model);
  const q = cfg.samplingRate;
  const cohort = q >= 1 ? eligible : eligible.filter(() => randomUnit(ctx.random) < q);
  const min = cfg.secagg.minClients;
  if (cohort.length < min) {
    throw new CoordinatorError(
      'Conflict',
      `${cohort.length} members sampled from ${eligible.length} eligible (${excluded.consent} excluded by consent, ${excluded.budget} by privacy budget); the model needs at least ${min}`,
    );
  }
  const n = cohort.length;
  const neighbors =
    cfg.secagg.neighbors !== undefined
      ? Math.min(cfg.secagg.neighbors, n - 1)
      : defaultNeighbours(n);
  const frac = cfg.secagg.thresholdFraction ?? 2 / 3;
  const threshold = Math.max(
    Math.floor((neighbors + 1) / 2) + 1,
    Math.ceil(frac * (neighbors + 1)),
  );
  const base = await latestVersion(ctx, model.id);
  const metrics = kind === 'eval' ? (input.metrics ?? ['loss']) : [];
  const suffix = new Uint8Array(6);
  ctx.random.fill(suffix);
  const id: RoundId = toRoundId(
    `${model.id}-${kind}-v${base.version}-${Buffer.from(suffix).toString('hex')}`,
  );
  const rc: RoundConfig = {
    roundId: id,
    modelId: model.id,
    kind,
    baseVersion: base.version,
    secagg: {
      clients: cohort.map((c) => ({
        id: c.id,
        identityKey: Buffer.from(c.publicKey).toString('hex'),
      })),
      dim: kind === 'train' ? model.dim : metrics.length,
      clipRange: kind === 'train' ? cfg.dp.clipNorm : cfg.evalRange,
      maxWeight: kind === 'train' ? trainingWeightCap(cfg) : cfg.maxWeight,
      neighbors,
      threshold: Math.min(threshold, neighbors + 1),
      minSurvivors: Math.min(min, n),
      noiseHeadroom: 0,
    },
    model: cfg,
    population: eligible.map((e) => e.id),
    metrics,
  };
  if (kind === 'train' && cfg.dp.mode === 'distributed') {
    const plan = planDistributedDp({
      clients: n,
      minSurvivors: rc.secagg.minSurvivors,
      clipNorm: cfg.dp.clipNorm,
      noiseMultiplier: cfg.dp.noiseMultiplier,
      dim: model.dim,
    });
    rc.secagg.noiseHeadroom = plan.noiseHeadroom;
    rc.noise = { perClientMu: plan.perClientMu, skellam: plan.skellam };
  }
  secAggConfigOf(rc); // validates the protocol parameters before anything is stored
  const deadline = new Date(ctx.now().getTime() + cfg.stageTimeoutMs);
  await ctx.db.transaction(async (tx) => {
    await tx.insert(rounds).values({
      id,
      modelId: model.id,
      kind,
      status: 'advertise',
      config: rc,
      baseVersion: base.version,
      stageDeadline: deadline,
    });
    await tx
      .insert(roundParticipants)
      .values(cohort.map((c, clientIndex) => ({ roundId: id, memberId: c.id, clientIndex })));
    await audit(tx, input.actor, 'round.start', id, { model: model.id, kind, cohort: n });
  });
  // The cohort's requests follow at once: their signatures are checked against what was just read.
  rememberMembers(ctx, cohort);
  ctx.metrics.participants.set({ model: model.id }, n);
  ctx.log.info({ round: id, model: model.id, kind, cohort: n }, 'round started');
  return rc;
}
