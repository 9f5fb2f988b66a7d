import { sql } from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';
import type { RoundId } from '@coopfl/protocol';
import type { CoordinatorContext } from '../context';
import { secaggEvents } from '../db';
import type { NonceClaim } from '../services/nonce-claims';
import {
  isClaimRefusal,
  strictClaimInsert,
  strictClaimOne,
  strictClaimValues,
} from '../services/nonce-claims';
import type { RoundEvent, RoundEventLog } from './active-round';

/** One event's row, every column a placeholder named after its `RoundEvent` field. */
function eventPlaceholders() {
  const p = (name: keyof RoundEvent | 'roundId') => sql.placeholder(name);
  return {
    roundId: p('roundId'),
    seq: p('seq'),
    kind: p('kind'),
    stage: p('stage'),
    clientIndex: p('clientIndex'),
    payload: p('payload'),
  };
}

/** Appends one event to a round's log; built once per database handle. */
function buildAppendOne(db: CoordinatorContext['db']) {
  return db.insert(secaggEvents).values(eventPlaceholders()).prepare('append_event');
}
const appendOneQueries = new WeakMap<object, ReturnType<typeof buildAppendOne>>();

/**
 * Appends one event together with one request's nonce claim (a round message as it usually
 * arrives: alone): the claim as a data-modifying WITH of the event's insert. Built once per
 * database handle; assembling this statement for each of a round's 200 messages was a visible
 * share of the coordinator's time.
 */
function buildAppendClaimed(db: CoordinatorContext['db']) {
  const claimed = db.$with('claimed').as(strictClaimOne(db));
  return db
    .with(claimed)
    .insert(secaggEvents)
    .values(eventPlaceholders())
    .prepare('append_event_claimed');
}
const appendClaimedQueries = new WeakMap<object, ReturnType<typeof buildAppendClaimed>>();

/** `insert into secagg_events …` of `events`: one with plain parameters, more through unnest. */
function eventsInsert(roundId: RoundId, events: readonly RoundEvent[]): SQL {
  const columns = sql`(round_id, seq, kind, stage, client_index, payload)`;
  const e = events.length === 1 ? events[0]! : undefined;
  if (e)
    return sql`insert into ${secaggEvents} ${columns} values (${roundId}, ${e.seq}::int, ${e.kind}::text, ${e.stage}::text, ${e.clientIndex}::int, ${e.payload}::bytea)`;
  const column = <T>(f: (e: RoundEvent) => T) => sql.param(events.map(f));
  const payloads = column((e) =>
    e.payload
      ? `\\x${Buffer.from(e.payload.buffer, e.payload.byteOffset, e.payload.byteLength).toString('hex')}`
      : null,
  );
  return sql`insert into ${secaggEvents} ${columns} select ${roundId}, s, k, st, ci, p::bytea from unnest(${column((e) => e.seq)}::int[], ${column((e) => e.kind)}::text[], ${column((e) => e.stage)}::text[], ${column((e) => e.clientIndex)}::int[], ${payloads}::text[]) as t(s, k, st, ci, p)`;
}

/**
 * A round's event log in `secagg_events`. Statement shapes are few and kept prepared: one event
 * (the usual group commit, as members' messages arrive one by one) with plain parameters, which
 * keeps its query plan; larger groups through arrays and unnest, rather than an n-row VALUES list
 * assembled anew each time. A group's nonce claims (round messages carry their request's) go into
 * the same statement, so a message and its nonce are stored together or not at all — one write
 * per message instead of two.
 */
export function roundEventLog(
  ctx: Pick<CoordinatorContext, 'db'>,
  roundId: RoundId,
): RoundEventLog<NonceClaim> {
  return {
    append: async (events, claims) => {
      if (claims.length === 1 && events.length === 1) {
        let q = appendClaimedQueries.get(ctx.db);
        if (!q) appendClaimedQueries.set(ctx.db, (q = buildAppendClaimed(ctx.db)));
        await q.execute({ roundId, ...events[0]!, ...strictClaimValues(claims[0]!) });
      } else if (claims.length > 0) {
        await ctx.db.execute(
          sql`with claimed as (${strictClaimInsert(claims)}) ${eventsInsert(roundId, events)}`,
        );
      } else if (events.length === 1) {
        let q = appendOneQueries.get(ctx.db);
        if (!q) appendOneQueries.set(ctx.db, (q = buildAppendOne(ctx.db)));
        await q.execute({ roundId, ...events[0]! });
      } else {
        await ctx.db.execute(eventsInsert(roundId, events));
      }
    },
    refusesClaim: isClaimRefusal,
  };
}
