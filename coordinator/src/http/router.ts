import { and, desc, eq } from 'drizzle-orm';
import { z } from 'zod';
import type { NodeId, RoundId } from '@coopfl/protocol';
import { privacyLedger, roundParticipants, rounds } from '../db';
import { CoordinatorError } from '../errors';
import { fingerprint } from '../keys';
import { login } from '../services/admins';
import {
  ConsentSchema,
  dashboardConsentEdit,
  getConsent,
  getConsentRecord,
  setConsent,
} from '../services/consent';
import { mintMemberLoginToken, exchangeMemberLoginToken } from '../services/member-login';
import { createInvite, join, listMembers, rotateKey, setMemberStatus } from '../services/members';
import { ModelConfigSchema } from '../services/model-config';
import { createModel, getModel, listModels } from '../services/models';
import {
  BenchmarkRunInputSchema,
  BenchmarkSettingsSchema,
  getBenchmarkSettings,
  publishedBenchmarks,
  setBenchmarkSettings,
} from '../services/benchmarks';
import { defaultEvalMetrics } from '../services/quality';
import { roundSummary } from '../services/round-detail';
import { dashboardRouter } from './dashboard-router';
import { signTask } from './task';
import {
  adminProcedure,
  nodeProcedure,
  publicProcedure,
  router,
  sessionProcedure,
  staffProcedure,
} from './trpc';

const hex = (len: number) =>
  z.string().regex(new RegExp(`^[0-9a-f]{${2 * len}}$`), `must be ${len} bytes of lowercase hex`);
const fromHex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));

export const appRouter = router({
  /** The coordinator's identity: nodes compare its fingerprint with their invite's. */
  info: publicProcedure.query(({ ctx }) => ({
    publicKey: Buffer.from(ctx.app.key.publicKey).toString('hex'),
    fingerprint: fingerprint(ctx.app.key.publicKey),
  })),

  join: publicProcedure
    .input(
      z.object({
        invite: z.string().max(200),
        name: z.string().min(1).max(100),
        publicKey: hex(32),
        proof: hex(64),
        profile: z.record(z.string(), z.unknown()).default({}),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const joined = await join(ctx.app, {
        ...input,
        publicKey: fromHex(input.publicKey),
        proof: fromHex(input.proof),
      });
      return { ...joined, coordinatorKey: Buffer.from(ctx.app.key.publicKey).toString('hex') };
    }),

  auth: router({
    login: publicProcedure
      .input(
        z.object({ username: z.string().min(1).max(100), password: z.string().min(1).max(1000) }),
      )
      .mutation(async ({ ctx, input }) => {
        const s = await login(ctx.app, input);
        return { token: s.token, role: s.role, expiresAt: s.expiresAt.toISOString() };
      }),
    me: sessionProcedure.query(({ ctx }) => ctx.principal),
    /** Exchanges a member's one-time dashboard login token (from its node) for a session. */
    memberLogin: publicProcedure
      .input(z.object({ token: z.string().regex(/^cfl_[A-Za-z0-9_-]{43}$/, 'not a login token') }))
      .mutation(async ({ ctx, input }) => {
        const s = await exchangeMemberLoginToken(ctx.app, input.token);
        return {
          token: s.token,
          role: s.role,
          memberId: s.memberId,
          expiresAt: s.expiresAt.toISOString(),
        };
      }),
  }),

  node: router({
    /** In-progress rounds this member takes part in, each signed by the coordinator. */
    tasks: nodeProcedure.query(async ({ ctx }) => {
      // A consent edit the member made in the dashboard, for the node to adopt; both reads are
      // shared with the other members polling in the same event-loop turn.
      const approved = ctx.node.status === 'approved';
      const [edit, tasks] = await Promise.all([
        dashboardConsentEdit(ctx.app, ctx.node.id),
        approved ? ctx.rounds.tasksFor(ctx.node.id) : [],
      ]);
      const consentEditAt = edit?.toISOString() ?? null;
      if (!approved) return { status: ctx.node.status, tasks: [], consentEditAt };
      return {
        status: ctx.node.status,
        consentEditAt,
        tasks: tasks.map((t) =>
          signTask(ctx.app.key, { round: t.rc, clientIndex: t.clientIndex, stage: t.stage }),
        ),
      };
    }),
    /** The cooperative's released benchmarks, for the node to set its own values beside them. */
    benchmarks: nodeProcedure
      .input(z.object({ period: z.string().max(20).optional() }).default({}))
      .query(({ ctx, input }) => publishedBenchmarks(ctx.app, input)),
    status: nodeProcedure.query(async ({ ctx }) => {
      const spent = await ctx.app.db
        .select()
        .from(privacyLedger)
        .where(eq(privacyLedger.memberId, ctx.node.id))
        .orderBy(desc(privacyLedger.id));
      const latest = new Map<string, number>();
      for (const row of spent) if (!latest.has(row.modelId)) latest.set(row.modelId, row.epsilon);
      return {
        member: { id: ctx.node.id, name: ctx.node.name, status: ctx.node.status },
        privacy: [...latest].map(([modelId, epsilon]) => ({
          modelId,
          epsilon,
          unit: 'member' as const,
        })),
        consent: (await getConsent(ctx.app, ctx.node.id)) ?? null,
      };
    }),
    /**
     * The cooperative's models as a member node sees them: id, kind, architecture, latest version
     * and local-training settings, so the node can fetch the newest global weights for local
     * serving and personalize them.
     */
    models: nodeProcedure.query(async ({ ctx }) =>
      (await listModels(ctx.app)).map((m) => {
        const config = ModelConfigSchema.parse(m.config);
        return {
          id: m.id,
          kind: m.kind,
          dim: m.dim,
          latestVersion: m.latestVersion,
          architecture: config.architecture ?? null,
          /** Local training settings, which the node also fine-tunes with (personalization). */
          training: {
            learningRate: config.training.learningRate,
            batchSize: config.training.batchSize,
          },
        };
      }),
    ),
    /** The outcome of a round this member was in the cohort of (not another member's rounds). */
    round: nodeProcedure
      .input(z.object({ roundId: z.string().max(200) }))
      .query(async ({ ctx, input }) => {
        const [p] = await ctx.app.db
          .select()
          .from(roundParticipants)
          .where(
            and(
              eq(roundParticipants.roundId, input.roundId as RoundId),
              eq(roundParticipants.memberId, ctx.node.id),
            ),
          );
        const [r] = p
          ? await ctx.app.db
              .select()
              .from(rounds)
              .where(eq(rounds.id, input.roundId as RoundId))
          : [];
        if (!r)
          throw new CoordinatorError('NotFound', `no round "${input.roundId}" of this member`);
        return roundSummary(r);
      }),
    /** A one-time dashboard login token for this member (`coopfl-node dashboard-link`). */
    dashboardLogin: nodeProcedure.mutation(async ({ ctx }) => {
      if (ctx.node.status === 'revoked')
        throw new CoordinatorError('MemberRevoked', 'this member has been revoked');
      const t = await mintMemberLoginToken(ctx.app, ctx.node.id);
      return { token: t.token, expiresAt: t.expiresAt.toISOString() };
    }),
    /**
     * The consent the member itself set in the dashboard, if that is the mirror's latest word; the
     * node adopts it (its local settings stay authoritative) and syncs it back.
     */
    consentEdit: nodeProcedure.query(async ({ ctx }) => {
      const r = await getConsentRecord(ctx.app, ctx.node.id);
      return r?.source === 'dashboard'
        ? { consent: r.consent, updatedAt: r.updatedAt.toISOString() }
        : null;
    }),
    setConsent: nodeProcedure
      .input(ConsentSchema)
      .mutation(({ ctx, input }) => setConsent(ctx.app, ctx.node.id, input, ctx.node.id)),
    rotateKey: nodeProcedure
      .input(z.object({ publicKey: hex(32), proof: hex(64) }))
      .mutation(async ({ ctx, input }) => {
        await rotateKey(ctx.app, ctx.node.id, fromHex(input.publicKey), fromHex(input.proof));
        return { ok: true };
      }),
  }),

  invites: router({
    create: adminProcedure
      .input(
        z.object({
          expiresInHours: z.number().positive().max(2160).default(72),
          note: z.string().max(200).optional(),
        }),
      )
      .mutation(async ({ ctx, input }) => {
        const r = await createInvite(ctx.app, { createdBy: ctx.principal.id, ...input });
        return { invite: r.invite, expiresAt: r.expiresAt.toISOString() };
      }),
  }),

  members: router({
    list: staffProcedure.query(async ({ ctx }) =>
      (await listMembers(ctx.app)).map((m) => ({
        id: m.id,
        name: m.name,
        status: m.status,
        createdAt: m.createdAt.toISOString(),
      })),
    ),
    approve: adminProcedure
      .input(z.object({ memberId: z.string() }))
      .mutation(async ({ ctx, input }) => {
        const m = await setMemberStatus(ctx.app, input.memberId, 'approved', ctx.principal.id);
        return { id: m.id, status: m.status };
      }),
    revoke: adminProcedure
      .input(z.object({ memberId: z.string() }))
      .mutation(async ({ ctx, input }) => {
        const m = await setMemberStatus(ctx.app, input.memberId, 'revoked', ctx.principal.id);
        return { id: m.id, status: m.status };
      }),
  }),

  models: router({
    create: adminProcedure
      .input(
        z.object({
          id: z.string(),
          name: z.string().optional(),
          kind: z.string().min(1),
          dim: z.number().int().positive().optional(),
          config: ModelConfigSchema.partial().optional(),
        }),
      )
      .mutation(async ({ ctx, input }) => {
        const m = await createModel(ctx.app, input, ctx.principal.id);
        return { id: m.id, dim: m.dim };
      }),
    list: sessionProcedure.query(async ({ ctx }) =>
      (await listModels(ctx.app)).map((m) => ({
        id: m.id,
        name: m.name,
        kind: m.kind,
        dim: m.dim,
        latestVersion: m.latestVersion,
        metrics: m.metrics,
      })),
    ),
  }),

  rounds: router({
    start: adminProcedure
      .input(
        z.object({
          modelId: z.string(),
          kind: z.enum(['train', 'eval']).default('train'),
          metrics: z.array(z.string().min(1)).max(64).optional(),
        }),
      )
      .mutation(async ({ ctx, input }) => {
        // An evaluation of one of the cooperative's kinds asks for its metrics and baselines.
        const metrics =
          input.metrics ??
          (input.kind === 'eval'
            ? defaultEvalMetrics((await getModel(ctx.app, input.modelId)).kind)
            : undefined);
        const rc = await ctx.rounds.start({
          ...input,
          ...(metrics ? { metrics } : {}),
          actor: ctx.principal.id,
        });
        return {
          roundId: rc.roundId,
          cohort: rc.secagg.clients.length,
          neighbors: rc.secagg.neighbors,
          threshold: rc.secagg.threshold,
        };
      }),
    list: sessionProcedure
      .input(
        z
          .object({
            modelId: z.string().optional(),
            limit: z.number().int().min(1).max(500).default(50),
          })
          .default({ limit: 50 }),
      )
      .query(async ({ ctx, input }) => {
        const rows = await ctx.app.db
          .select()
          .from(rounds)
          .orderBy(desc(rounds.createdAt))
          .limit(input.limit);
        const mine =
          ctx.principal.role === 'member'
            ? new Set(
                (
                  await ctx.app.db
                    .select()
                    .from(roundParticipants)
                    .where(eq(roundParticipants.memberId, ctx.principal.id as NodeId))
                ).map((p) => p.roundId as string),
              )
            : undefined;
        return rows
          .filter(
            (r) => (!input.modelId || r.modelId === input.modelId) && (!mine || mine.has(r.id)),
          )
          .map(roundSummary);
      }),
    get: staffProcedure.input(z.object({ roundId: z.string() })).query(async ({ ctx, input }) => {
      const [r] = await ctx.app.db
        .select()
        .from(rounds)
        .where(eq(rounds.id, input.roundId as RoundId));
      if (!r) throw new CoordinatorError('NotFound', `no round "${input.roundId}"`);
      const participants = await ctx.app.db
        .select()
        .from(roundParticipants)
        .where(eq(roundParticipants.roundId, r.id));
      return {
        ...roundSummary(r),
        participants: participants.map((p) => ({
          memberId: p.memberId,
          clientIndex: p.clientIndex,
        })),
      };
    }),
  }),

  privacy: router({
    ledger: sessionProcedure
      .input(z.object({ memberId: z.string().optional() }).default({}))
      .query(async ({ ctx, input }) => {
        const memberId = ctx.principal.role === 'member' ? ctx.principal.id : input.memberId;
        if (
          ctx.principal.role === 'member' &&
          input.memberId &&
          input.memberId !== ctx.principal.id
        ) {
          throw new CoordinatorError('Forbidden', 'a member sees only its own privacy ledger');
        }
        const rows = memberId
          ? await ctx.app.db
              .select()
              .from(privacyLedger)
              .where(eq(privacyLedger.memberId, memberId as NodeId))
              .orderBy(desc(privacyLedger.id))
          : await ctx.app.db
              .select()
              .from(privacyLedger)
              .orderBy(desc(privacyLedger.id))
              .limit(1000);
        return rows.map((r) => ({ ...r, unit: r.unit, createdAt: r.createdAt.toISOString() }));
      }),
  }),

  /**
   * Shared benchmarks: the admin runs them for a period (optionally for a peer group); everyone
   * signed in sees the released cooperative figures (never one shop's value).
   */
  benchmarks: router({
    run: adminProcedure.input(BenchmarkRunInputSchema).mutation(async ({ ctx, input }) => {
      const rc = await ctx.rounds.startBenchmark(input, ctx.principal.id);
      return {
        roundId: rc.roundId,
        cohort: rc.secagg.clients.length,
        kpis: rc.benchmark!.kpis,
        dp: rc.model.dp.mode,
      };
    }),
    settings: staffProcedure.query(({ ctx }) => getBenchmarkSettings(ctx.app)),
    setSettings: adminProcedure
      .input(BenchmarkSettingsSchema)
      .mutation(({ ctx, input }) => setBenchmarkSettings(ctx.app, input, ctx.principal.id)),
    published: sessionProcedure
      .input(
        z
          .object({
            period: z.string().max(20).optional(),
            peerGroup: z.string().max(200).optional(),
          })
          .default({}),
      )
      .query(({ ctx, input }) => publishedBenchmarks(ctx.app, input)),
  }),

  dashboard: dashboardRouter,
});

export type AppRouter = typeof appRouter;
