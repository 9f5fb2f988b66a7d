import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { RoundId } from '@coopfl/protocol';
import { isProtocolError } from '@coopfl/protocol';
import type { ServerStage } from '@coopfl/protocol/secagg';
import { DECLINE_STAGE_CODE, STAGE_CODE_OFFSET } from '@coopfl/protocol/secagg';
import type { CoordinatorContext } from '../context';
import { roundParticipants, rounds, secaggEvents } from '../db';
import { CoordinatorError } from '../errors';
import type { InboxKind, RoundEvent } from './active-round';
import { ActiveRound, inboxAfter } from './active-round';
import { roundEventLog } from './event-log';
import { failRound, finalizeRound } from './finalize';
import type { RoundConfig } from './round-config';
import { RoundConfigSchema, secAggConfigOf } from './round-config';
import { startRound } from './start';
import type { BenchmarkRunInput } from '../services/benchmarks';
import { startBenchmark } from '../services/benchmarks';
import { batchLoader } from '../services/batch';
import type { NonceClaim } from '../services/nonce-claims';
import { isClaimRefusal } from '../services/nonce-claims';

const ACTIVE_STATUSES = ['advertise', 'shares', 'masked', 'unmask'] as const;

interface Hosted {
  rc: RoundConfig;
  round: ActiveRound<NonceClaim>;
  indexOf: Map<string, number>;
  timer?: ReturnType<typeof setTimeout>;
  stageStartedAt: number;
  /** The stage whose start was last handled (persisted, deadline armed): each change once. */
  handled: string;
}

/**
 * Hosts the coordinator's in-flight rounds: each is an {@link ActiveRound} whose event log is the
 * `secagg_events` table. Stage changes update the round row and re-arm the stage deadline; the
 * final aggregate is released by {@link finalizeRound}. After a restart, {@link resumeAll} rebuilds
 * every in-flight round from its log and re-arms its deadline from the stored one.
 */
export class RoundHost {
  readonly #hosted = new Map<string, Hosted>();
  readonly #finishing = new Set<Promise<unknown>>();
  #closed = false;
  /** In-progress rounds by member, for the members' task polls of one event-loop turn at once. */
  readonly #participations: (
    memberId: string,
  ) => Promise<{ id: RoundId; status: string; clientIndex: number }[] | undefined>;

  constructor(private readonly ctx: CoordinatorContext) {
    this.#participations = batchLoader(async (memberIds: string[]) => {
      const rows = await ctx.db
        .select({
          memberId: roundParticipants.memberId,
          id: rounds.id,
          status: rounds.status,
          clientIndex: roundParticipants.clientIndex,
        })
        .from(roundParticipants)
        .innerJoin(rounds, eq(rounds.id, roundParticipants.roundId))
        .where(
          and(
            sql`${roundParticipants.memberId} = any(${sql.param(memberIds)}::text[])`,
            inArray(rounds.status, [...ACTIVE_STATUSES]),
          ),
        );
      const byMember = new Map<string, typeof rows>();
      for (const r of rows) {
        const list = byMember.get(r.memberId);
        if (list) list.push(r);
        else byMember.set(r.memberId, [r]);
      }
      return byMember;
    });
  }

  /** Starts a round (see {@link startRound}) and begins hosting it. */
  async start(input: Parameters<typeof startRound>[1]): Promise<RoundConfig> {
    const rc = await startRound(this.ctx, input);
    this.#host(rc, [], this.ctx.now().getTime() + rc.model.stageTimeoutMs);
    return rc;
  }

  /** Starts a benchmark run (see {@link startBenchmark}) and begins hosting its round. */
  async startBenchmark(input: BenchmarkRunInput, actor: string): Promise<RoundConfig> {
    const rc = await startBenchmark(this.ctx, input, actor);
    this.#host(rc, [], this.ctx.now().getTime() + rc.model.stageTimeoutMs);
    return rc;
  }

  /** Rebuilds every in-flight round from the database (after a restart). */
  async resumeAll(): Promise<number> {
    const rows = await this.ctx.db
      .select({ id: rounds.id })
      .from(rounds)
      .where(inArray(rounds.status, [...ACTIVE_STATUSES]));
    for (const r of rows) await this.resumeOne(r.id);
    return rows.length;
  }

  /**
   * A member's client index in a hosted round; NotFound / Forbidden otherwise. A round that is in
   * progress in the database but not hosted here (started by the CLI or another coordinator) is
   * loaded from its log first.
   */
  async #participant(
    roundId: string,
    memberId: string,
  ): Promise<{ hosted: Hosted; index: number }> {
    if (!this.#hosted.has(roundId)) await this.resumeOne(roundId);
    const hosted = this.#hosted.get(roundId);
    if (!hosted) {
      const [row] = await this.ctx.db
        .select({ status: rounds.status })
        .from(rounds)
        .where(eq(rounds.id, roundId as RoundId));
      if (!row) throw new CoordinatorError('NotFound', `no round "${roundId}"`);
      throw new CoordinatorError('RoundOver', `round "${roundId}" is ${row.status}`);
    }
    const index = hosted.indexOf.get(memberId);
    if (index === undefined)
      throw new CoordinatorError(
        'Forbidden',
        `member "${memberId}" is not part of round "${roundId}"`,
      );
    return { hosted, index };
  }

  /** Whether `roundId` is hosted (in progress) now. */
  isActive(roundId: string): boolean {
    return this.#hosted.has(roundId);
  }

  /**
   * Applies a member's secure-aggregation message; protocol rejections become BadRequest/Conflict.
   * With `claim`, the request's nonce is stored in the same write as the message's events; if it
   * is refused ({@link isClaimRefusal}) nothing was stored or applied, and that error is thrown.
   * Resolves with the server message the member waits for next (none after its unmask reply or a
   * decline), which {@link inbox} then delivers.
   */
  async submit(
    roundId: string,
    memberId: string,
    bytes: Uint8Array,
    claim?: NonceClaim,
  ): Promise<InboxKind | undefined> {
    const { hosted, index } = await this.#participant(roundId, memberId);
    let stage: ServerStage;
    try {
      stage = await hosted.round.submit(index, bytes, claim);
    } catch (err) {
      if (isClaimRefusal(err)) throw err;
      if (isProtocolError(err)) {
        const conflict = ['Replay', 'WrongStage', 'RoundClosed'].includes(err.code);
        throw new CoordinatorError(conflict ? 'Conflict' : 'BadRequest', err.message, {
          cause: err,
        });
      }
      // A storage failure: nothing was applied, but the write may have been stored all the same
      // (an error after the commit); rebuild from the log.
      this.#drop(roundId);
      await this.resumeOne(roundId);
      throw err;
    }
    this.ctx.metrics.bytesIn.inc(bytes.length);
    await this.#afterChange(hosted);
    return bytes[STAGE_CODE_OFFSET] === DECLINE_STAGE_CODE ? undefined : inboxAfter(stage);
  }

  /** Waits (up to `waitMs`) for the server message of `kind` for this member. */
  async inbox(
    roundId: string,
    memberId: string,
    kind: InboxKind,
    waitMs: number,
  ): Promise<Uint8Array | 'pending' | 'closed'> {
    const { hosted, index } = await this.#participant(roundId, memberId);
    const msg = await hosted.round.waitForInbox(index, kind, waitMs);
    if (msg) {
      this.ctx.metrics.bytesOut.inc(msg.length);
      return msg;
    }
    return hosted.round.outcome ? 'closed' : 'pending';
  }

  /** Hosts every in-progress round of the database not hosted yet (started elsewhere). */
  async sweep(): Promise<void> {
    const rows = await this.ctx.db
      .select({ id: rounds.id })
      .from(rounds)
      .where(inArray(rounds.status, [...ACTIVE_STATUSES]));
    for (const r of rows) if (!this.#hosted.has(r.id)) await this.resumeOne(r.id);
  }

  /** Rebuilds one round from the database (after a storage error, or started elsewhere). */
  async resumeOne(roundId: string): Promise<void> {
    if (this.#closed) return;
    const [row] = await this.ctx.db
      .select()
      .from(rounds)
      .where(eq(rounds.id, roundId as RoundId));
    if (!row || !ACTIVE_STATUSES.includes(row.status as (typeof ACTIVE_STATUSES)[number])) return;
    const events = await this.ctx.db
      .select()
      .from(secaggEvents)
      .where(eq(secaggEvents.roundId, row.id))
      .orderBy(asc(secaggEvents.seq));
    const hosted = this.#host(
      RoundConfigSchema.parse(row.config),
      events.map((e) => ({
        seq: e.seq,
        kind: e.kind,
        stage: e.stage as ServerStage,
        clientIndex: e.clientIndex,
        payload: e.payload,
      })),
      row.stageDeadline?.getTime() ?? this.ctx.now().getTime(),
    );
    hosted.handled = row.status;
    this.ctx.log.info(
      { round: row.id, stage: hosted.round.stage, events: events.length },
      'round resumed',
    );
    await this.#afterChange(hosted);
  }

  /**
   * Members' view: in-progress rounds they take part in, with their client index. Read from the
   * database (rounds started elsewhere count too); the polls of one event-loop turn share one
   * statement.
   */
  async tasksFor(
    memberId: string,
  ): Promise<{ rc: RoundConfig; clientIndex: number; stage: string }[]> {
    const rows = (await this.#participations(memberId)) ?? [];
    // A hosted round's configuration is at hand; parsing it again (every member's keys) for each
    // member's poll was a visible share of a round's cost. Rounds hosted elsewhere are read.
    return Promise.all(
      rows.map(async (r) => ({
        rc: this.#hosted.get(r.id)?.rc ?? (await this.#storedConfig(r.id)),
        clientIndex: r.clientIndex,
        stage: r.status,
      })),
    );
  }

  async #storedConfig(roundId: RoundId): Promise<RoundConfig> {
    const [row] = await this.ctx.db
      .select({ config: rounds.config })
      .from(rounds)
      .where(eq(rounds.id, roundId));
    if (!row) throw new CoordinatorError('NotFound', `no round "${roundId}"`);
    return RoundConfigSchema.parse(row.config);
  }

  /** Waits until rounds being released have been written (for orderly shutdown and tests). */
  async settled(): Promise<void> {
    while (this.#finishing.size > 0) await Promise.all([...this.#finishing]);
  }

  /** Stops timers and forgets hosted rounds (their state stays in the database). */
  async close(): Promise<void> {
    this.#closed = true;
    for (const h of this.#hosted.values()) clearTimeout(h.timer);
    this.#hosted.clear();
    await this.settled();
  }

  #host(rc: RoundConfig, events: RoundEvent[], deadline: number): Hosted {
    const config = secAggConfigOf(rc);
    const hosted: Hosted = {
      rc,
      round: ActiveRound.restore(config, roundEventLog(this.ctx, rc.roundId), events),
      indexOf: new Map(rc.secagg.clients.map((c, i) => [c.id as string, i])),
      stageStartedAt: this.ctx.now().getTime(),
      handled: 'advertise',
    };
    this.#hosted.set(rc.roundId, hosted);
    this.#arm(hosted, deadline);
    return hosted;
  }

  #drop(roundId: string): void {
    const h = this.#hosted.get(roundId);
    if (h) clearTimeout(h.timer);
    this.#hosted.delete(roundId);
  }

  #arm(hosted: Hosted, at: number): void {
    clearTimeout(hosted.timer);
    const stage = hosted.round.stage;
    if (this.#closed || stage === 'done' || stage === 'failed') return;
    hosted.timer = setTimeout(
      () => {
        void hosted.round
          .deadline(stage)
          .then(() => this.#afterChange(hosted))
          .catch((err: unknown) =>
            this.ctx.log.error({ round: hosted.rc.roundId, err: String(err) }, 'deadline failed'),
          );
      },
      Math.max(0, at - this.ctx.now().getTime()),
    );
    hosted.timer.unref?.();
  }

  /** Persists a stage change, re-arms the deadline, or releases the finished round. */
  async #afterChange(hosted: Hosted): Promise<void> {
    const stage = hosted.round.stage;
    const before = hosted.handled;
    if (stage === before) return;
    hosted.handled = stage;
    const now = this.ctx.now().getTime();
    this.ctx.metrics.stageSeconds.observe({ stage: before }, (now - hosted.stageStartedAt) / 1000);
    hosted.stageStartedAt = now;
    const { rc } = hosted;
    if (stage === 'done' || stage === 'failed') {
      this.#drop(rc.roundId);
      const outcome = hosted.round.outcome!;
      const release = (
        outcome.ok
          ? finalizeRound(this.ctx, rc, outcome.result)
          : failRound(this.ctx, rc, outcome.error)
      ).then(() => {
        this.ctx.metrics.rounds.inc({ outcome: outcome.ok ? 'done' : 'failed', kind: rc.kind });
        this.ctx.log.info(
          { round: rc.roundId, outcome: outcome.ok ? 'done' : outcome.error.code },
          'round finished',
        );
      });
      this.#finishing.add(release);
      try {
        await release;
      } finally {
        this.#finishing.delete(release);
      }
      return;
    }
    const deadline = now + rc.model.stageTimeoutMs;
    await this.ctx.db
      .update(rounds)
      .set({ status: stage, stageDeadline: new Date(deadline) })
      .where(eq(rounds.id, rc.roundId));
    this.#arm(hosted, deadline);
  }
}
