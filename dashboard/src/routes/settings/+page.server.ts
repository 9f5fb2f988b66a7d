import { z } from 'zod';
import { actionOr, loadOr, parseForm } from '$lib/server/calls';
import { coordinator } from '$lib/server/coordinator';
import { requireAdmin, requireStaff } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

/** Admin settings: each model's privacy and thresholds, and the round schedule. */
export const load = (async ({ locals, url }) => {
  const { user, token } = requireStaff(locals, url);
  const c = coordinator(token);
  const [s, benchmarks] = await Promise.all([
    loadOr(() => c.dashboard.settings.query()),
    loadOr(() => c.benchmarks.settings.query()),
  ]);
  return { role: user.role, models: s.models, schedule: s.schedule, benchmarks };
}) satisfies PageServerLoad;

const num = (label: string) => z.coerce.number({ error: `${label} must be a number` });
/** The privacy fields both forms (add a model, change a model) share. */
const DP_FIELDS = {
  mode: z.enum(['off', 'central', 'distributed'], { error: 'choose off, central or distributed' }),
  epsilonBudget: num('the budget').positive('the budget must be above 0').max(1000, 'at most 1000'),
  noiseMultiplier: num('the noise multiplier').min(0, 'at least 0').max(100, 'at most 100'),
};
const ModelForm = z.object({
  modelId: z.string({ error: 'choose a model' }).min(1, 'choose a model'),
  ...DP_FIELDS,
  clipNorm: num('the clip norm').positive('the clip norm must be above 0'),
  minClients: num('the minimum').int('a whole number').min(2, 'at least 2 members'),
  thresholdFraction: z
    .string()
    .trim()
    .transform((v) => (v === '' ? undefined : Number(v)))
    .pipe(
      z.number({ error: 'a number' }).gt(0.5, 'must be above 0.5').max(1, 'at most 1').optional(),
    ),
  samplingRate: num('the sampling rate').gt(0, 'must be above 0').max(1, 'at most 1'),
  stageTimeoutSeconds: num('the timeout').positive('must be above 0').max(86_400, 'at most a day'),
});
const ScheduleForm = z.object({
  everyMinutes: num('the interval')
    .int('whole minutes')
    .min(0, '0 (off) or more')
    .max(10_080, 'at most a week'),
  models: z.array(z.string()),
});

const CreateForm = z.object({
  id: z
    .string({ error: 'give the model an id' })
    .trim()
    .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lowercase letters, digits, - and _ (up to 63)'),
  kind: z.enum(['demand', 'recommendation', 'fraud'], {
    error: 'choose demand, recommendation or fraud',
  }),
  ...DP_FIELDS,
});

const BenchmarkForm = z.object({
  minContributors: num('the minimum')
    .int('a whole number')
    .min(2, 'at least 2 contributors')
    .max(10_000, 'at most 10000'),
  bins: num('the bins').int('a whole number').min(2, 'at least 2').max(64, 'at most 64'),
  confidence: num('the confidence').gt(0.5, 'must be above 0.5').lt(1, 'must be below 1'),
  dpMode: DP_FIELDS.mode,
  epsilonPerRun: num('ε per run').positive('must be above 0').max(100, 'at most 100'),
  budget: DP_FIELDS.epsilonBudget,
  timeoutSeconds: num('the timeout').min(0.1, 'at least 0.1').max(86_400, 'at most a day'),
  monthlyOnDay: z
    .string()
    .trim()
    .transform((v) => (v === '' ? null : Number(v)))
    .pipe(
      z
        .number({ error: 'a day of the month' })
        .int('a whole day')
        .min(1, 'from 1')
        .max(28, 'at most 28 (every month has it)')
        .nullable(),
    ),
});

export const actions = {
  /** How benchmark runs release KPIs: minimum contributors, histogram, DP and its budget. */
  benchmarks: async ({ locals, request }) => {
    const { token } = requireAdmin(locals);
    const form = await parseForm(request, BenchmarkForm);
    if (!form.ok) return form.failure;
    const f = form.data;
    const c = coordinator(token);
    const r = await actionOr(async () => {
      const current = await c.benchmarks.settings.query();
      return c.benchmarks.setSettings.mutate({
        minContributors: f.minContributors,
        bins: f.bins,
        confidence: f.confidence,
        dp: {
          mode: f.dpMode,
          epsilonPerRun: f.epsilonPerRun,
          delta: current.dp.delta,
          epsilonBudget: f.budget,
        },
        stageTimeoutMs: Math.round(f.timeoutSeconds * 1000),
        monthlyOnDay: f.monthlyOnDay,
      });
    }, 'minContributors');
    if (!r.ok) return r.failure;
    return { saved: 'benchmark settings' };
  },
  /** A new shared model of one of the cooperative's kinds (its network is the kind's default). */
  create: async ({ locals, request }) => {
    const { token } = requireAdmin(locals);
    const form = await parseForm(request, CreateForm);
    if (!form.ok) return form.failure;
    const f = form.data;
    const r = await actionOr(
      () =>
        coordinator(token).models.create.mutate({
          id: f.id,
          kind: f.kind,
          config: {
            dp: {
              mode: f.mode,
              epsilonBudget: f.epsilonBudget,
              noiseMultiplier: f.noiseMultiplier,
              clipNorm: 1,
              delta: 1e-5,
            },
          },
        }),
      'id',
    );
    if (!r.ok) return r.failure;
    return { saved: `model ${r.value.id}` };
  },
  /** Privacy and thresholds of one model; the next round uses them. */
  model: async ({ locals, request }) => {
    const { token } = requireAdmin(locals);
    const form = await parseForm(request, ModelForm);
    if (!form.ok) return form.failure;
    const f = form.data;
    const r = await actionOr(
      () =>
        coordinator(token).dashboard.updateModel.mutate({
          modelId: f.modelId,
          settings: {
            dp: {
              mode: f.mode,
              epsilonBudget: f.epsilonBudget,
              noiseMultiplier: f.noiseMultiplier,
              clipNorm: f.clipNorm,
            },
            secagg: {
              minClients: f.minClients,
              ...(f.thresholdFraction !== undefined
                ? { thresholdFraction: f.thresholdFraction }
                : {}),
            },
            samplingRate: f.samplingRate,
            stageTimeoutMs: Math.round(f.stageTimeoutSeconds * 1000),
          },
        }),
      'modelId',
    );
    if (!r.ok) return r.failure;
    return { saved: f.modelId };
  },
  /** The round schedule (0 minutes: off; no model ticked: every model). */
  schedule: async ({ locals, request }) => {
    const { token } = requireAdmin(locals);
    const form = await parseForm(request, ScheduleForm, ['models']);
    if (!form.ok) return form.failure;
    const { everyMinutes, models } = form.data;
    const r = await actionOr(
      () =>
        coordinator(token).dashboard.setSchedule.mutate({
          everyMinutes,
          ...(models.length > 0 ? { models } : {}),
        }),
      'everyMinutes',
    );
    if (!r.ok) return r.failure;
    return { saved: 'schedule' };
  },
} satisfies Actions;
