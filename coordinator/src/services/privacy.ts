import { and, eq, inArray } from 'drizzle-orm';
import type { NodeId } from '@coopfl/protocol';
import type { PrivacyEvent } from '@coopfl/protocol/dp';
import { PrivacyLedger, asDelta, asEpsilon } from '@coopfl/protocol/dp';
import type { CoordinatorContext } from '../context';
import { privacyLedger } from '../db';

/**
 * The privacy ledger as the protocol's accountant sees it. Rows are member-level Gaussian events
 * (one per round per member of the sampling population); ε is computed, never estimated, with the
 * tighter of the RDP and PLD accountants at the model's δ.
 */
export async function ledgerFor(
  ctx: Pick<CoordinatorContext, 'db'>,
  modelId: string,
  memberIds: readonly string[],
  delta: number,
): Promise<PrivacyLedger> {
  const rows =
    memberIds.length === 0
      ? []
      : await ctx.db
          .select()
          .from(privacyLedger)
          .where(
            and(
              eq(privacyLedger.modelId, modelId),
              inArray(privacyLedger.memberId, memberIds as NodeId[]),
            ),
          );
  return new PrivacyLedger({ delta: asDelta(delta), events: rows.map(toEvent) });
}

export function toEvent(row: typeof privacyLedger.$inferSelect): PrivacyEvent {
  if (row.mechanism === 'skellam') {
    return {
      mechanism: 'skellam',
      skellam: row.params as { mu: number; l2Sensitivity: number; l1Sensitivity: number },
      samplingRate: row.samplingRate,
      steps: row.steps,
      modelId: row.modelId,
      memberId: row.memberId,
      unit: row.unit,
      at: row.createdAt.toISOString(),
    };
  }
  return {
    mechanism: 'gaussian',
    noiseMultiplier: row.noiseMultiplier,
    samplingRate: row.samplingRate,
    steps: row.steps,
    modelId: row.modelId,
    memberId: row.memberId,
    unit: row.unit,
    at: row.createdAt.toISOString(),
  };
}

/** The event one more central-DP round would add for a member. */
export function roundEvent(
  modelId: string,
  memberId: NodeId,
  noiseMultiplier: number,
  samplingRate: number,
  at: Date,
): PrivacyEvent {
  return {
    mechanism: 'gaussian',
    noiseMultiplier,
    samplingRate,
    steps: 1,
    modelId,
    memberId,
    unit: 'member',
    at: at.toISOString(),
  } as PrivacyEvent;
}

/** The event one more distributed-DP (Skellam) round would add for a member. */
export function skellamRoundEvent(
  modelId: string,
  memberId: NodeId,
  skellam: { mu: number; l2Sensitivity: number; l1Sensitivity: number },
  samplingRate: number,
  at: Date,
): PrivacyEvent {
  return {
    mechanism: 'skellam',
    skellam,
    samplingRate,
    steps: 1,
    modelId,
    memberId,
    unit: 'member',
    at: at.toISOString(),
  };
}

export const budget = (epsilon: number, delta: number) => ({
  epsilon: asEpsilon(epsilon),
  delta: asDelta(delta),
  unit: 'member' as const,
});
