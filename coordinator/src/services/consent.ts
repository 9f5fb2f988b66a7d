import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { NodeId } from '@coopfl/protocol';
import type { CoordinatorContext } from '../context';
import { consent } from '../db';
import { audit } from './audit';

/**
 * A member's consent, as its node last reported it (the node's local settings are authoritative;
 * the coordinator mirrors them and never schedules against them). Absent fields mean "no limit".
 */
export const ConsentSchema = z.object({
  /** Model ids (or kinds) this member trains; absent: all. */
  models: z.array(z.string()).optional(),
  /** Benchmark KPIs this member contributes; absent: none. */
  kpis: z.array(z.string()).default([]),
  /** The member's own ε cap per model id, at most the cooperative's budget. */
  epsilonCaps: z.record(z.string(), z.number().positive()).default({}),
});
export type Consent = z.infer<typeof ConsentSchema>;

export async function getConsent(
  ctx: Pick<CoordinatorContext, 'db'>,
  memberId: string,
): Promise<Consent | undefined> {
  const [row] = await ctx.db
    .select()
    .from(consent)
    .where(eq(consent.memberId, memberId as NodeId));
  return row ? ConsentSchema.parse(row.settings) : undefined;
}

export async function setConsent(
  ctx: CoordinatorContext,
  memberId: NodeId,
  settings: Consent,
  actor: string,
): Promise<Consent> {
  const value = ConsentSchema.parse(settings);
  await ctx.db
    .insert(consent)
    .values({ memberId, settings: value, updatedAt: ctx.now() })
    .onConflictDoUpdate({
      target: consent.memberId,
      set: { settings: value, updatedAt: ctx.now() },
    });
  await audit(ctx.db, actor, 'consent.set', memberId);
  return value;
}

/** Whether a consent allows training a model (by id or kind). */
export function allowsModel(c: Consent | undefined, model: { id: string; kind: string }): boolean {
  return !c?.models || c.models.includes(model.id) || c.models.includes(model.kind);
}
