import { redirect } from '@sveltejs/kit';
import { z } from 'zod';
import { KPIS, KpiIdSchema, PeriodSchema, SIZE_BANDS } from '@coopfl/protocol/benchmarks';
import { actionOr, loadOr, parseForm } from '$lib/server/calls';
import { coordinator } from '$lib/server/coordinator';
import { requireAdmin, requireUser } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

/** Where a node serves its API unless configured otherwise (`servePort` in the node config). */
const DEFAULT_NODE_URL = 'http://127.0.0.1:8788';

/**
 * The cooperative's published benchmarks (released aggregates only: the coordinator never holds
 * one shop's value). A member's own values are not loaded here: the page reads them in the
 * browser, straight from the member's node, so they never pass through this server.
 */
export const load = (async ({ locals, url }) => {
  const { user, token } = requireUser(locals, url);
  const c = coordinator(token);
  const [published, settings] = await Promise.all([
    loadOr(() => c.benchmarks.published.query({})),
    user.role === 'member' ? null : loadOr(() => c.benchmarks.settings.query()),
  ]);
  return {
    role: user.role,
    settings,
    sizeBands: [...SIZE_BANDS],
    memberId: user.role === 'member' ? user.id : null,
    defaultNodeUrl: DEFAULT_NODE_URL,
    kpis: KPIS.map((k) => ({
      id: k.id,
      label: k.label,
      definition: k.definition,
      higherIsBetter: k.higherIsBetter,
      range: k.range,
    })),
    runs: published.map((r) => ({
      roundId: r.roundId,
      period: r.period,
      peerGroup: r.peerGroup,
      at: r.at,
      dp: r.dp,
      contributors: r.contributors,
      kpis: r.kpis.map((k) => ({
        kpi: k.kpi,
        status: k.status,
        reason: k.reason,
        contributors: k.contributors,
        mean: k.mean,
        meanInterval: k.meanInterval,
        quartiles: k.quartiles,
        quartileIntervals: k.quartileIntervals,
        confidence: k.confidence,
        noiseSd: k.noiseSd,
      })),
    })),
  };
}) satisfies PageServerLoad;

const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

const RunForm = z.object({
  period: z
    .string({ error: 'enter a period' })
    .trim()
    .refine((p) => PeriodSchema.safeParse(p).success, {
      message: 'a month (2026-10), a quarter (2026-Q4) or a year (2026)',
    }),
  kpis: z.array(KpiIdSchema).min(1, 'choose at least one KPI'),
  sizeBand: z.preprocess(blankToUndefined, z.enum(SIZE_BANDS).optional()),
  category: z.preprocess(blankToUndefined, z.string().trim().max(100).optional()),
  dp: z.preprocess(blankToUndefined, z.enum(['off', 'central', 'distributed']).optional()),
  epsilon: z.preprocess(
    blankToUndefined,
    z.coerce
      .number({ error: 'a number' })
      .positive('must be above 0')
      .max(100, 'at most 100')
      .optional(),
  ),
});

export const actions = {
  /** Starts a benchmark run for a period (optionally a peer group) and opens its live round page. */
  run: async ({ locals, request }) => {
    const { token } = requireAdmin(locals);
    const form = await parseForm(request, RunForm, ['kpis']);
    if (!form.ok) return form.failure;
    const { period, kpis, sizeBand, category, dp, epsilon } = form.data;
    const r = await actionOr(
      () =>
        coordinator(token).benchmarks.run.mutate({
          period,
          kpis,
          peerGroup: {
            ...(sizeBand ? { sizeBand } : {}),
            ...(category ? { category } : {}),
          },
          ...(dp ? { dp } : {}),
          ...(epsilon === undefined ? {} : { epsilon }),
        }),
      'period',
    );
    if (!r.ok) return r.failure;
    redirect(303, `/rounds/${encodeURIComponent(r.value.roundId)}`);
  },
} satisfies Actions;
