import { asc, eq, sql } from 'drizzle-orm';
import type { RoundId } from '@coopfl/protocol';
import { DECLINE_STAGE_CODE, STAGE_CODE_OFFSET } from '@coopfl/protocol/secagg';
import type { CoordinatorContext } from '../context';
import type { Round } from '../db';
import { members, roundParticipants, rounds, secaggEvents } from '../db';
import { CoordinatorError } from '../errors';

/** The secure-aggregation stages in order (DESIGN §5); a round ends `done` or `failed`. */
export const STAGES = ['advertise', 'shares', 'masked', 'unmask'] as const;
export type Stage = (typeof STAGES)[number];

/** A round's row as the APIs show it. */
export const roundSummary = (r: Round) => ({
  id: r.id,
  modelId: r.modelId,
  kind: r.kind,
  status: r.status,
  baseVersion: r.baseVersion,
  resultVersion: r.resultVersion,
  error: r.error,
  createdAt: r.createdAt.toISOString(),
  finishedAt: r.finishedAt?.toISOString() ?? null,
});

export interface StageSpan {
  stage: Stage;
  /** First and last logged event of the stage (ISO); null when it has not started. */
  startedAt: string | null;
  endedAt: string | null;
  /** Members whose message this stage accepted. */
  messages: number;
  /** Bytes of the members' accepted messages (masked inputs: their vector size). */
  bytes: number;
  /** Closed by its deadline rather than by the last expected message. */
  deadline: boolean;
  state: 'pending' | 'running' | 'closed';
}

/**
 * A round as the dashboard shows it, rebuilt from the round's event log (no extra bookkeeping in
 * the hot path): the stage timeline, who was selected, who dropped out in which stage, the bytes
 * members sent, duration and outcome. `memberIds` decides whose identity is shown; everyone else
 * appears only as an anonymous client index (a member never learns who else took part).
 *
 * @example
 * const d = await roundDetail(ctx, roundId, { reveal: 'all' });
 * d.timeline.map((s) => `${s.stage}: ${s.messages} messages, ${s.bytes} B`);
 */
export async function roundDetail(
  ctx: Pick<CoordinatorContext, 'db' | 'now'>,
  roundId: string,
  opts: { reveal: 'all' | { memberId: string } },
) {
  const [r] = await ctx.db
    .select()
    .from(rounds)
    .where(eq(rounds.id, roundId as RoundId));
  if (!r) throw new CoordinatorError('NotFound', `no round "${roundId}"`);
  const participants = await ctx.db
    .select({
      memberId: roundParticipants.memberId,
      clientIndex: roundParticipants.clientIndex,
      name: members.name,
    })
    .from(roundParticipants)
    .innerJoin(members, eq(members.id, roundParticipants.memberId))
    .where(eq(roundParticipants.roundId, r.id))
    .orderBy(asc(roundParticipants.clientIndex));
  if (opts.reveal !== 'all') {
    const self = opts.reveal.memberId;
    if (!participants.some((p) => p.memberId === self))
      throw new CoordinatorError('Forbidden', 'a member sees only the rounds it took part in');
  }
  const events = await ctx.db
    .select({
      kind: secaggEvents.kind,
      stage: secaggEvents.stage,
      clientIndex: secaggEvents.clientIndex,
      bytes: sql<number>`coalesce(octet_length(${secaggEvents.payload}), 0)`.mapWith(Number),
      // The envelope's stage code, to tell a member's decline from an advertisement.
      code: sql<
        number | null
      >`case when octet_length(${secaggEvents.payload}) > ${sql.raw(String(STAGE_CODE_OFFSET))} then get_byte(${secaggEvents.payload}, ${sql.raw(String(STAGE_CODE_OFFSET))}) end`,
      at: secaggEvents.createdAt,
    })
    .from(secaggEvents)
    .where(eq(secaggEvents.roundId, r.id))
    .orderBy(asc(secaggEvents.seq));

  const seen = new Map<Stage, Set<number>>(STAGES.map((s) => [s, new Set<number>()]));
  const spans = new Map<Stage, StageSpan>(
    STAGES.map((stage) => [
      stage,
      {
        stage,
        startedAt: null,
        endedAt: null,
        messages: 0,
        bytes: 0,
        deadline: false,
        state: 'pending',
      },
    ]),
  );
  const declined = new Set<number>();
  for (const e of events) {
    const span = spans.get(e.stage as Stage);
    if (!span) continue;
    if (e.kind === 'message' && e.clientIndex !== null && e.code === DECLINE_STAGE_CODE) {
      declined.add(e.clientIndex);
      continue;
    }
    const at = e.at.toISOString();
    span.startedAt ??= at;
    span.endedAt = at;
    if (e.kind === 'message' && e.clientIndex !== null) {
      span.messages++;
      span.bytes += e.bytes;
      seen.get(span.stage)!.add(e.clientIndex);
    } else if (e.kind === 'deadline') {
      span.deadline = true;
    } else if (e.kind === 'checkpoint') {
      // u32 survivor count, the survivors' u32 indices, then the sum: one masked input's size.
      const inputBytes = e.bytes - 4 - 4 * span.messages;
      if (inputBytes > 0) span.bytes += inputBytes * span.messages;
    }
  }
  const finished = r.status === 'done' || r.status === 'failed';
  const current = STAGES.indexOf(r.status as Stage);
  STAGES.forEach((stage, i) => {
    const span = spans.get(stage)!;
    if (finished) span.state = span.startedAt ? 'closed' : 'pending';
    else span.state = i < current ? 'closed' : i === current ? 'running' : 'pending';
  });
  // A member dropped out in the first closed stage that has no message from it.
  const droppedIn = new Map<number, Stage>();
  for (const stage of STAGES) {
    const span = spans.get(stage)!;
    if (span.state !== 'closed') continue;
    for (const p of participants) {
      if (declined.has(p.clientIndex)) continue;
      if (!droppedIn.has(p.clientIndex) && !seen.get(stage)!.has(p.clientIndex))
        droppedIn.set(p.clientIndex, stage);
    }
  }
  const timeline = STAGES.map((s) => spans.get(s)!);
  const end = r.finishedAt ?? ctx.now();
  const visible = (memberId: string) => opts.reveal === 'all' || opts.reveal.memberId === memberId;
  return {
    ...roundSummary(r),
    durationMs: end.getTime() - r.createdAt.getTime(),
    outcome: r.status === 'done' ? 'released' : r.status === 'failed' ? 'failed' : 'running',
    timeline,
    bytes: timeline.reduce((a, s) => a + s.bytes, 0),
    cohort: participants.length,
    dropouts: droppedIn.size,
    /** Members that declined before advertising (consent, budget, no data): not dropouts. */
    declines: declined.size,
    participants: participants.map((p) => ({
      clientIndex: p.clientIndex,
      memberId: visible(p.memberId) ? p.memberId : null,
      name: visible(p.memberId) ? p.name : null,
      droppedIn: droppedIn.get(p.clientIndex) ?? null,
      declined: declined.has(p.clientIndex),
    })),
  };
}
export type RoundDetail = Awaited<ReturnType<typeof roundDetail>>;
