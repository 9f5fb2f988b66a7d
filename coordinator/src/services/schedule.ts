import { and, desc, eq, notInArray } from 'drizzle-orm';
import type { CoordinatorContext } from '../context';
import { rounds } from '../db';
import { latestVersion, listModels } from './models';
import { defaultEvalMetrics } from './quality';
import { getSchedule } from './settings';

/** How a schedule tick starts a round (the round host's `start`, passed in to keep this pure of it). */
export type StartRound = (input: {
  modelId: string;
  kind: 'train' | 'eval';
  metrics?: string[];
  actor: string;
}) => Promise<unknown>;

/**
 * One tick of the dashboard-edited schedule: for each scheduled model with no round in progress,
 * evaluate its latest version if that has no evaluation yet (the cooperative's three kinds), else
 * start a training round once the last one is `everyMinutes` old. Returns what it started; a round
 * that cannot start (too few eligible members) is logged and retried on a later tick.
 *
 * @example
 * setInterval(() => void scheduleTick(ctx, (i) => host.start(i)), 15_000);
 */
export async function scheduleTick(ctx: CoordinatorContext, start: StartRound): Promise<string[]> {
  const schedule = await getSchedule(ctx);
  if (schedule.everyMinutes <= 0) return [];
  const started: string[] = [];
  for (const m of await listModels(ctx)) {
    if (schedule.models && !schedule.models.includes(m.id)) continue;
    const active = await ctx.db
      .select({ id: rounds.id })
      .from(rounds)
      .where(and(eq(rounds.modelId, m.id), notInArray(rounds.status, ['done', 'failed'])))
      .limit(1);
    if (active.length > 0) continue;
    const metrics = defaultEvalMetrics(m.kind);
    const latest = await latestVersion(ctx, m.id);
    const evaluated = (latest.metrics as { eval?: unknown }).eval !== undefined;
    try {
      if (metrics && latest.version > 0 && !evaluated) {
        await start({ modelId: m.id, kind: 'eval', metrics, actor: 'schedule' });
        started.push(`${m.id}:eval`);
        continue;
      }
      const [last] = await ctx.db
        .select({ createdAt: rounds.createdAt })
        .from(rounds)
        .where(and(eq(rounds.modelId, m.id), eq(rounds.kind, 'train')))
        .orderBy(desc(rounds.createdAt))
        .limit(1);
      const due =
        !last || ctx.now().getTime() - last.createdAt.getTime() >= schedule.everyMinutes * 60_000;
      if (!due) continue;
      await start({ modelId: m.id, kind: 'train', actor: 'schedule' });
      started.push(`${m.id}:train`);
    } catch (err) {
      ctx.log.warn({ model: m.id, reason: (err as Error).message }, 'scheduled round not started');
    }
  }
  return started;
}
