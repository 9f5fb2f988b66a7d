import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { NodeId } from '@coopfl/protocol';
import { KPIS } from '@coopfl/protocol/benchmarks';
import { members, roundParticipants } from '../db';
import { CoordinatorError } from '../errors';
import type { Principal } from '../services/admins';
import { ConsentSchema, getConsentRecord, setConsent } from '../services/consent';
import { ModelConfigSchema } from '../services/model-config';
import { listModels } from '../services/models';
import { modelHistory, overview, privacySummary } from '../services/quality';
import { roundDetail } from '../services/round-detail';
import {
  ModelSettingsSchema,
  ScheduleSchema,
  getSchedule,
  setSchedule,
  settingsOf,
  updateModelSettings,
} from '../services/settings';
import { adminProcedure, router, sessionProcedure, staffProcedure } from './trpc';

const memberOf = (p: Principal) => (p.role === 'member' ? p.id : undefined);

/** A member may look only at itself; admins and observers at anyone. */
function assertMayView(p: Principal, memberId: string): void {
  if (p.role === 'member' && p.id !== memberId)
    throw new CoordinatorError('Forbidden', "a member sees only its own page, not another shop's");
}

/**
 * The views the dashboard needs beyond the admin API, each already cut to what the caller may see:
 * a member session gets its own figures and cooperative aggregates, never another shop's rows.
 */
export const dashboardRouter = router({
  /** Members, rounds in progress, latest released quality, privacy spent. */
  overview: sessionProcedure.query(async ({ ctx }) => {
    const self = memberOf(ctx.principal);
    const view = await overview(ctx.app, self);
    if (!self) return view;
    const mine = new Set(
      (
        await ctx.app.db
          .select({ roundId: roundParticipants.roundId })
          .from(roundParticipants)
          .where(eq(roundParticipants.memberId, self as NodeId))
      ).map((r) => r.roundId as string),
    );
    return { ...view, activeRounds: view.activeRounds.filter((r) => mine.has(r.id)) };
  }),

  /** One round: stage timeline, participants (others anonymous to a member), dropouts, bytes. */
  round: sessionProcedure
    .input(z.object({ roundId: z.string().min(1).max(200) }))
    .query(({ ctx, input }) => {
      const self = memberOf(ctx.principal);
      return roundDetail(ctx.app, input.roundId, {
        reveal: self ? { memberId: self } : 'all',
      });
    }),

  /** A model's cooperative-average quality over rounds, baselines, versions, best vs latest. */
  modelHistory: sessionProcedure
    .input(z.object({ modelId: z.string().min(1).max(200) }))
    .query(({ ctx, input }) => modelHistory(ctx.app, input.modelId)),

  /** ε spent per model against budget (and own cap), member-level. */
  privacy: sessionProcedure
    .input(z.object({ memberId: z.string().max(200).optional() }).default({}))
    .query(({ ctx, input }) => {
      const self = memberOf(ctx.principal);
      if (self && input.memberId) assertMayView(ctx.principal, input.memberId);
      return privacySummary(ctx.app, self ?? input.memberId);
    }),

  /** A member's profile page: itself for a member session, anyone for staff. */
  member: sessionProcedure
    .input(z.object({ memberId: z.string().min(1).max(200) }))
    .query(async ({ ctx, input }) => {
      assertMayView(ctx.principal, input.memberId);
      const [m] = await ctx.app.db
        .select()
        .from(members)
        .where(eq(members.id, input.memberId as NodeId));
      if (!m) throw new CoordinatorError('NotFound', `no member "${input.memberId}"`);
      const consent = await getConsentRecord(ctx.app, m.id);
      return {
        id: m.id,
        name: m.name,
        status: m.status,
        createdAt: m.createdAt.toISOString(),
        approvedAt: m.approvedAt?.toISOString() ?? null,
        revokedAt: m.revokedAt?.toISOString() ?? null,
        consent: consent?.consent ?? null,
        consentSource: consent?.source ?? null,
        consentUpdatedAt: consent?.updatedAt.toISOString() ?? null,
        privacy: await privacySummary(ctx.app, m.id),
      };
    }),

  /**
   * The member edits its own consent. The coordinator's cohort selection uses it from the next
   * round; the member's node adopts it on its next poll (`node.consentEdit`) and syncs it back.
   */
  setConsent: sessionProcedure.input(ConsentSchema).mutation(({ ctx, input }) => {
    const self = memberOf(ctx.principal);
    if (!self)
      throw new CoordinatorError('Forbidden', "consent is the member's own choice: log in as it");
    return setConsent(ctx.app, self as NodeId, input, `dashboard:${self}`, 'dashboard');
  }),

  /** What consent can name: the cooperative's models and benchmark KPIs. */
  consentOptions: sessionProcedure.query(async ({ ctx }) => ({
    models: (await listModels(ctx.app)).map((m) => {
      const c = ModelConfigSchema.parse(m.config);
      return { id: m.id, kind: m.kind, dpMode: c.dp.mode, epsilonBudget: c.dp.epsilonBudget };
    }),
    kpis: KPIS.map((k) => ({ id: k.id, label: k.label, definition: k.definition })),
  })),

  /** Admin settings: each model's privacy and thresholds, and the round schedule. */
  settings: staffProcedure.query(async ({ ctx }) => ({
    models: (await listModels(ctx.app)).map((m) => ({
      id: m.id,
      kind: m.kind,
      ...settingsOf(ModelConfigSchema.parse(m.config)),
    })),
    schedule: await getSchedule(ctx.app),
  })),
  updateModel: adminProcedure
    .input(z.object({ modelId: z.string().min(1).max(200), settings: ModelSettingsSchema }))
    .mutation(async ({ ctx, input }) =>
      settingsOf(
        await updateModelSettings(ctx.app, input.modelId, input.settings, ctx.principal.id),
      ),
    ),
  setSchedule: adminProcedure
    .input(ScheduleSchema)
    .mutation(({ ctx, input }) => setSchedule(ctx.app, input, ctx.principal.id)),
});
