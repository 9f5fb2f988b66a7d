import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { CoordinatorContext } from '../context';
import { cooperativeSettings, models } from '../db';
import { CoordinatorError } from '../errors';
import { audit } from './audit';
import { ModelConfigSchema } from './model-config';
import type { ModelConfig } from './model-config';
import { getModel } from './models';

/**
 * What an admin may change on an existing model from the dashboard: privacy (DP mode, budget,
 * noise, clip norm), secure-aggregation thresholds, sampling and stage timeout. The architecture
 * and strategy are fixed at creation (changing them would orphan the trained weights). Each new
 * round copies the values it uses, so a change applies from the next round on.
 */
export const ModelSettingsSchema = z.object({
  dp: z
    .object({
      mode: z.enum(['off', 'central', 'distributed']),
      epsilonBudget: z.number().positive().max(1000),
      noiseMultiplier: z.number().min(0).max(100),
      clipNorm: z.number().positive().max(1e6),
    })
    .partial()
    .optional(),
  secagg: z
    .object({
      minClients: z.number().int().min(2).max(100_000),
      thresholdFraction: z.number().gt(0.5).max(1),
    })
    .partial()
    .optional(),
  samplingRate: z.number().gt(0).max(1).optional(),
  stageTimeoutMs: z
    .number()
    .int()
    .min(100)
    .max(24 * 3600_000)
    .optional(),
});
export type ModelSettings = z.infer<typeof ModelSettingsSchema>;

/** The settings view of a model's config (what the dashboard's settings page edits). */
export function settingsOf(config: ModelConfig) {
  return {
    dp: {
      mode: config.dp.mode,
      epsilonBudget: config.dp.epsilonBudget,
      noiseMultiplier: config.dp.noiseMultiplier,
      clipNorm: config.dp.clipNorm,
      delta: config.dp.delta,
    },
    secagg: {
      minClients: config.secagg.minClients,
      thresholdFraction: config.secagg.thresholdFraction ?? null,
    },
    samplingRate: config.samplingRate,
    stageTimeoutMs: config.stageTimeoutMs,
  };
}

/**
 * Merges a settings change into a model's config (validated as a whole) and records who did it.
 *
 * @example
 * await updateModelSettings(ctx, 'demand', { dp: { mode: 'central', epsilonBudget: 8 } }, adminId);
 */
export async function updateModelSettings(
  ctx: CoordinatorContext,
  modelId: string,
  change: ModelSettings,
  actor: string,
): Promise<ModelConfig> {
  const model = await getModel(ctx, modelId);
  const merged = {
    ...model.parsed,
    dp: { ...model.parsed.dp, ...change.dp },
    secagg: { ...model.parsed.secagg, ...change.secagg },
    ...(change.samplingRate !== undefined ? { samplingRate: change.samplingRate } : {}),
    ...(change.stageTimeoutMs !== undefined ? { stageTimeoutMs: change.stageTimeoutMs } : {}),
  };
  const parsed = ModelConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CoordinatorError('BadRequest', `${issue.path.join('.')}: ${issue.message}`);
  }
  await ctx.db.update(models).set({ config: parsed.data }).where(eq(models.id, modelId));
  await audit(ctx.db, actor, 'model.settings', modelId, { change });
  return parsed.data;
}

/**
 * The round schedule: every `everyMinutes` (0: off) a training round, then an evaluation round,
 * of each listed model (absent: every model) is started, unless one of that model is in progress.
 */
export const ScheduleSchema = z.object({
  everyMinutes: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 60),
  models: z.array(z.string().min(1).max(200)).max(100).optional(),
});
export type Schedule = z.infer<typeof ScheduleSchema>;

const SCHEDULE_KEY = 'schedule';

export async function getSchedule(ctx: Pick<CoordinatorContext, 'db'>): Promise<Schedule> {
  const [row] = await ctx.db
    .select()
    .from(cooperativeSettings)
    .where(eq(cooperativeSettings.key, SCHEDULE_KEY));
  const parsed = ScheduleSchema.safeParse(row?.value ?? {});
  return parsed.success ? parsed.data : { everyMinutes: 0 };
}

export async function setSchedule(
  ctx: CoordinatorContext,
  schedule: Schedule,
  actor: string,
): Promise<Schedule> {
  const value = ScheduleSchema.parse(schedule);
  await ctx.db
    .insert(cooperativeSettings)
    .values({ key: SCHEDULE_KEY, value, updatedAt: ctx.now() })
    .onConflictDoUpdate({
      target: cooperativeSettings.key,
      set: { value, updatedAt: ctx.now() },
    });
  await audit(ctx.db, actor, 'schedule.set', null, value);
  return value;
}
