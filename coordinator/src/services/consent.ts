import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { NodeId } from '@coopfl/protocol';
import { isKpiId, unknownKpisMessage } from '@coopfl/protocol/benchmarks';
import type { CoordinatorContext } from '../context';
import { consent } from '../db';
import type { CONSENT_SOURCES } from '../db';
import { audit } from './audit';
import { batchLoader } from './batch';

/**
 * A member's consent, as its node last reported it (the node's local settings are authoritative;
 * the coordinator mirrors them and never schedules against them). Absent fields mean "no limit".
 */
export const ConsentSchema = z.object({
  /** Model ids (or kinds) this member trains; absent: all. */
  models: z.array(z.string()).optional(),
  /** Benchmark KPIs this member contributes (ids of the protocol's catalogue); absent: none. */
  kpis: z
    .array(z.string())
    .default([])
    .superRefine((ks, ctx) => {
      const message = unknownKpisMessage(ks);
      if (message) ctx.addIssue({ code: 'custom', message });
    }),
  /** The member's own ε cap per model id (or kind), at most the cooperative's budget. */
  epsilonCaps: z.record(z.string(), z.number().positive()).default({}),
  /**
   * The period the member's own caps apply to, in days (365: "ε per model per year"); absent: the
   * caps are lifetime totals. The cooperative's budget is always a lifetime total.
   */
  epsilonPeriodDays: z.number().int().min(1).max(36_500).optional(),
});
export type Consent = z.infer<typeof ConsentSchema>;

/**
 * Consent as stored: a KPI id no longer in the catalogue is dropped (it cannot be asked for),
 * rather than making the whole record unreadable.
 */
export const StoredConsentSchema = ConsentSchema.extend({
  kpis: z
    .array(z.string())
    .default([])
    .transform((ks) => ks.filter(isKpiId)),
});

export async function getConsent(
  ctx: Pick<CoordinatorContext, 'db'>,
  memberId: string,
): Promise<Consent | undefined> {
  const [row] = await ctx.db
    .select()
    .from(consent)
    .where(eq(consent.memberId, memberId as NodeId));
  return row ? StoredConsentSchema.parse(row.settings) : undefined;
}

/**
 * The consents of many members in one statement (starting a round reads every eligible member's):
 * by member id, members without a mirror left out.
 */
export async function getConsents(
  ctx: Pick<CoordinatorContext, 'db'>,
  memberIds: readonly string[],
): Promise<Map<string, Consent>> {
  // One statement shape for any number of members (an array parameter, not an n-item IN list).
  const rows = await ctx.db
    .select({ memberId: consent.memberId, settings: consent.settings })
    .from(consent)
    .where(sql`${consent.memberId} = any(${sql.param([...memberIds])}::text[])`);
  return new Map(rows.map((r) => [r.memberId, StoredConsentSchema.parse(r.settings)]));
}

const dashboardEditLoaders = new WeakMap<object, (memberId: string) => Promise<Date | undefined>>();

/**
 * When the member last edited its consent in the dashboard, for its node to adopt; undefined when
 * its node's own settings stand. Every member's task poll asks: the polls of one event-loop turn
 * are answered by one statement ({@link batchLoader}).
 */
export function dashboardConsentEdit(
  ctx: Pick<CoordinatorContext, 'db'>,
  memberId: string,
): Promise<Date | undefined> {
  let load = dashboardEditLoaders.get(ctx.db);
  if (!load) {
    load = batchLoader(async (ids: string[]) => {
      const rows = await ctx.db
        .select({ memberId: consent.memberId, updatedAt: consent.updatedAt })
        .from(consent)
        .where(
          sql`${consent.memberId} = any(${sql.param(ids)}::text[]) and ${consent.source} = 'dashboard'`,
        );
      return new Map(rows.map((r) => [r.memberId as string, r.updatedAt]));
    });
    dashboardEditLoaders.set(ctx.db, load);
  }
  return load(memberId);
}

/** Who last wrote a member's consent mirror: its node, or the member in the dashboard. */
export type ConsentSource = (typeof CONSENT_SOURCES)[number];

/** The mirror with when and by whom it was last written (for the node to adopt dashboard edits). */
export async function getConsentRecord(
  ctx: Pick<CoordinatorContext, 'db'>,
  memberId: string,
): Promise<{ consent: Consent; source: ConsentSource; updatedAt: Date } | undefined> {
  const [row] = await ctx.db
    .select()
    .from(consent)
    .where(eq(consent.memberId, memberId as NodeId));
  return row
    ? {
        consent: StoredConsentSchema.parse(row.settings),
        source: row.source,
        updatedAt: row.updatedAt,
      }
    : undefined;
}

/**
 * Writes the mirror. `source: 'node'` is the node syncing its authoritative local settings;
 * `'dashboard'` is the member editing them through the coordinator: cohort selection respects the
 * edit from the next round on, and the member's node adopts it on its next poll (then syncs it
 * back, which marks it `node` again).
 */
export async function setConsent(
  ctx: CoordinatorContext,
  memberId: NodeId,
  settings: Consent,
  actor: string,
  source: ConsentSource = 'node',
): Promise<Consent> {
  const value = ConsentSchema.parse(settings);
  await ctx.db
    .insert(consent)
    .values({ memberId, settings: value, updatedAt: ctx.now(), source })
    .onConflictDoUpdate({
      target: consent.memberId,
      set: { settings: value, updatedAt: ctx.now(), source },
    });
  await audit(ctx.db, actor, 'consent.set', memberId, { source });
  return value;
}

/** Whether a consent allows training a model (by id or kind). */
export function allowsModel(c: Consent | undefined, model: { id: string; kind: string }): boolean {
  return !c?.models || c.models.includes(model.id) || c.models.includes(model.kind);
}

/** One privacy limit a round must respect for a member: ε over the events since `since`. */
export interface EpsilonLimit {
  readonly epsilon: number;
  /** Count only events at or after this time (a renewing period); absent: lifetime. */
  readonly since?: Date;
  readonly label: string;
}

/**
 * The limits a member's round must respect for a model: the cooperative's lifetime budget, and
 * the member's own cap for the model id (or kind) over its consent period. The coordinator checks
 * them before scheduling and the node before taking part, with the same function.
 */
export function epsilonLimits(
  c: Consent | undefined,
  model: { id: string; kind: string; budget: number },
  now: Date,
): EpsilonLimit[] {
  const limits: EpsilonLimit[] = [{ epsilon: model.budget, label: 'the cooperative budget' }];
  const own = c?.epsilonCaps[model.id] ?? c?.epsilonCaps[model.kind];
  if (own !== undefined) {
    const days = c?.epsilonPeriodDays;
    limits.push(
      days === undefined
        ? { epsilon: own, label: "the member's own cap" }
        : {
            epsilon: own,
            since: new Date(now.getTime() - days * 86_400_000),
            label: `the member's own cap per ${days} days`,
          },
    );
  }
  return limits;
}
