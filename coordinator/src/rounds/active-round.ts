import { ProtocolError } from '@coopfl/protocol';
import type {
  AggregateResult,
  Outgoing,
  SecAggConfig,
  ServerStage,
  ServerState,
} from '@coopfl/protocol/secagg';
import { cloneServerState, createServer, maskedTotals, serverNext } from '@coopfl/protocol/secagg';

/**
 * One in-flight secure-aggregation round, hosted by the coordinator.
 *
 * Durability by event sourcing: every message the protocol server accepts and every stage deadline
 * is appended to the round's event log before its effect is visible; after a restart the state is
 * rebuilt by replaying the log through the same deterministic transition function, which also
 * regenerates the messages waiting for each client. Rejected messages are never logged, so bad
 * input changes nothing stored. Work on one round is serialised through a queue so the log order
 * is the order of application.
 *
 * Masked inputs are the exception, for cost: each is a full-length vector, and writing n of them
 * (50 × 400 KB in `bench round`) dominated the coordinator's time. The log records a receipt per
 * masked input (who, no payload) and, when the stage closes, one checkpoint: the running sum and
 * the survivors. A restart after the close restores exactly; a restart while the stage is still
 * collecting loses the inputs summed so far, and their senders count as dropped — which secure
 * aggregation tolerates by design (their pairwise masks are removed via their neighbours' shares;
 * their self-masks keep the vectors the coordinator saw hidden).
 */
export interface RoundEvent {
  seq: number;
  kind: 'message' | 'deadline' | 'checkpoint';
  stage: ServerStage;
  clientIndex: number | null;
  payload: Uint8Array | null;
}

/**
 * The round's durable log. `C` is what a message's sender stores together with its events (the
 * coordinator: its request's nonce claim), opaque to the round.
 */
export interface RoundEventLog<C = never> {
  /**
   * Appends events durably, in order (one write for a group of them), with the claims of the
   * messages they record, all or nothing.
   */
  append(events: RoundEvent[], claims: C[]): Promise<void>;
  /**
   * Whether `err`, thrown by {@link append}, says a claim was refused — so nothing was written and
   * the other work of the group can be applied again.
   */
  refusesClaim?(err: unknown): boolean;
}

type Work<C> =
  | { type: 'message'; clientIndex: number; bytes: Uint8Array; claim: C | undefined }
  | { type: 'deadline'; stage: ServerStage };

interface Pending<C> {
  work: Work<C>;
  /** With the stage that accepted a message (or was current when a deadline was handled). */
  resolve: (stage: ServerStage) => void;
  reject: (err: unknown) => void;
}

/** Server message kinds a client fetches, by the stage whose closing produced them. */
export const INBOX_AFTER: Record<'keys' | 'ciphertexts' | 'unmaskRequest', ServerStage> = {
  keys: 'advertise',
  ciphertexts: 'shares',
  unmaskRequest: 'masked',
};
export type InboxKind = keyof typeof INBOX_AFTER;
const KIND_OF_CLOSED: Partial<Record<ServerStage, InboxKind>> = {
  advertise: 'keys',
  shares: 'ciphertexts',
  masked: 'unmaskRequest',
};

/** The server message a client waits for after its message of `stage` (none after unmasking). */
export function inboxAfter(stage: ServerStage): InboxKind | undefined {
  return KIND_OF_CLOSED[stage];
}

export type RoundOutcome =
  { ok: true; result: AggregateResult } | { ok: false; error: ProtocolError };

export class ActiveRound<C = never> {
  #state: ServerState;
  #seq = 0;
  readonly #inbox = new Map<number, Map<InboxKind, Uint8Array>>();
  #incoming: Pending<C>[] = [];
  #draining = false;
  readonly #listeners = new Set<() => void>();

  private constructor(
    readonly config: SecAggConfig,
    private readonly log: RoundEventLog<C>,
  ) {
    this.#state = createServer(config);
  }

  /** A new round, or one rebuilt from its logged events (in sequence order). */
  static restore<C = never>(
    config: SecAggConfig,
    log: RoundEventLog<C>,
    events: readonly RoundEvent[] = [],
  ): ActiveRound<C> {
    const round = new ActiveRound<C>(config, log);
    for (const e of [...events].sort((a, b) => a.seq - b.seq)) {
      round.#seq = e.seq;
      // A masked-input receipt: its vector is in the stage's checkpoint, if the stage closed.
      if (e.kind === 'message' && e.payload === null) continue;
      const step = serverNext(
        round.#state,
        e.kind === 'deadline'
          ? { type: 'deadline', stage: e.stage }
          : e.kind === 'checkpoint'
            ? { type: 'checkpoint', stage: 'masked', ...decodeCheckpoint(e.payload!) }
            : { type: 'message', bytes: e.payload! },
      );
      round.#absorb(step.state, step.ok ? step.out : [], e.stage);
    }
    return round;
  }

  /** The protocol stage now collecting messages, or the outcome. */
  get stage(): ServerState['stage'] {
    return this.#state.stage;
  }

  get outcome(): RoundOutcome | undefined {
    if (this.#state.stage === 'done') return { ok: true, result: this.#state.result };
    if (this.#state.stage === 'failed') return { ok: false, error: this.#state.error };
    return undefined;
  }

  /** The server message of `kind` for client `index`, once the stage producing it has closed. */
  inbox(index: number, kind: InboxKind): Uint8Array | undefined {
    return this.#inbox.get(index)?.get(kind);
  }

  /**
   * Waits up to `timeoutMs` for the server message of `kind` for client `index` (long polling);
   * resolves undefined on timeout or when the round ends without one.
   */
  waitForInbox(index: number, kind: InboxKind, timeoutMs: number): Promise<Uint8Array | undefined> {
    const ready = this.inbox(index, kind);
    if (ready || this.outcome || timeoutMs <= 0) return Promise.resolve(ready);
    return new Promise((resolve) => {
      const check = () => {
        const msg = this.inbox(index, kind);
        if (!msg && !this.outcome) return;
        finish(msg);
      };
      const finish = (msg: Uint8Array | undefined) => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        resolve(msg);
      };
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      this.#listeners.add(check);
    });
  }

  /**
   * Applies a client message; resolves, once it is durable (with `claim`, if given, in the same
   * write), with the stage that accepted it, and rejects with the protocol's named error, or with
   * the log's error if the claim was refused (then nothing of it was applied).
   */
  submit(clientIndex: number, bytes: Uint8Array, claim?: C): Promise<ServerStage> {
    return this.#enqueue({ type: 'message', clientIndex, bytes, claim });
  }

  /** Closes `stage` if it is still open (its deadline passed). */
  async deadline(stage: ServerStage): Promise<void> {
    await this.#enqueue({ type: 'deadline', stage });
  }

  #enqueue(work: Work<C>): Promise<ServerStage> {
    return new Promise((resolve, reject) => {
      this.#incoming.push({ work, resolve, reject });
      if (!this.#draining) void this.#drain();
    });
  }

  /**
   * Group commit: everything that arrived while the previous write was in flight is applied in
   * order — to a copy of the state — its events (and the accepted messages' claims) are appended
   * to the log in one write, and only then does any of it become visible (state, inboxes) and its
   * senders get their answer. Same order, same durability as one write per message; a cohort of
   * 50 costs a handful of writes per stage instead of 50. If the write refuses a claim, nothing
   * was stored or applied: the claimed messages are refused, the rest is applied again.
   */
  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#incoming.length > 0) {
        const batch = this.#incoming.splice(0);
        let state = cloneServerState(this.#state);
        const events: Omit<RoundEvent, 'seq'>[] = [];
        const claims: C[] = [];
        const effects: [ServerState, Outgoing[], ServerStage][] = [];
        /** Each item's outcome, given once the group is durable. */
        const outcomes: [Pending<C>, ServerStage | ProtocolError][] = [];
        for (const item of batch) {
          const stage = state.stage;
          if (stage === 'done' || stage === 'failed') {
            outcomes.push([
              item,
              item.work.type === 'deadline'
                ? item.work.stage
                : new ProtocolError('RoundClosed', `round ${this.config.roundId} is ${stage}`),
            ]);
            continue;
          }
          if (item.work.type === 'deadline') {
            if (stage !== item.work.stage) {
              outcomes.push([item, stage]); // stale: that stage already closed
              continue;
            }
            const totals = stage === 'masked' ? maskedTotals(state) : undefined;
            const step = serverNext(state, { type: 'deadline', stage });
            events.push(
              totals
                ? checkpointEvent(totals)
                : { kind: 'deadline', stage, clientIndex: null, payload: null },
            );
            effects.push([step.state, step.ok ? step.out : [], stage]);
            state = step.state;
            outcomes.push([item, stage]);
            continue;
          }
          const { clientIndex, bytes, claim } = item.work;
          const before = state;
          const step = serverNext(before, { type: 'message', bytes });
          if (!step.ok && step.state.stage !== 'failed') {
            outcomes.push([item, step.error]);
            continue;
          }
          // Accepted (possibly closing the stage); masked inputs are logged as receipts.
          events.push({
            kind: 'message',
            stage,
            clientIndex,
            payload: stage === 'masked' ? null : bytes,
          });
          if (claim !== undefined) claims.push(claim);
          // `before` was updated in place by the accepted input: it holds the stage's totals.
          if (stage === 'masked' && step.state.stage !== 'masked') {
            events.push(checkpointEvent(maskedTotals(before)!));
          }
          effects.push([step.state, step.ok ? step.out : [], stage]);
          state = step.state;
          outcomes.push([item, stage]);
        }
        try {
          if (events.length > 0) {
            const seq0 = this.#seq;
            await this.log.append(
              events.map((e, i) => ({ ...e, seq: seq0 + i + 1 })),
              claims,
            );
            this.#seq = seq0 + events.length;
          }
        } catch (err) {
          const claimed = (item: Pending<C>, outcome: ServerStage | ProtocolError) =>
            item.work.type === 'message' &&
            item.work.claim !== undefined &&
            !(outcome instanceof ProtocolError);
          if (claims.length > 0 && this.log.refusesClaim?.(err)) {
            const again: Pending<C>[] = [];
            for (const [item, outcome] of outcomes) {
              if (claimed(item, outcome)) item.reject(err);
              else again.push(item);
            }
            this.#incoming.unshift(...again);
            continue;
          }
          for (const [item, outcome] of outcomes)
            item.reject(outcome instanceof ProtocolError ? outcome : err);
          continue;
        }
        for (const [next, out, stage] of effects) this.#absorb(next, out, stage);
        for (const [item, outcome] of outcomes) {
          if (outcome instanceof ProtocolError) item.reject(outcome);
          else item.resolve(outcome);
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  #absorb(next: ServerState, out: { to: number; bytes: Uint8Array }[], stage: ServerStage): void {
    this.#state = next;
    const kind = KIND_OF_CLOSED[stage];
    if (kind) {
      for (const o of out) {
        let box = this.#inbox.get(o.to);
        if (!box) this.#inbox.set(o.to, (box = new Map<InboxKind, Uint8Array>()));
        box.set(kind, o.bytes);
      }
    }
    for (const listener of [...this.#listeners]) listener();
  }
}

/** The masked stage's close in the log: its survivors and sum. */
function checkpointEvent(totals: { survivors: readonly number[]; sum: Uint32Array }) {
  return {
    kind: 'checkpoint' as const,
    stage: 'masked' as const,
    clientIndex: null,
    payload: encodeCheckpoint(totals),
  };
}

/** Checkpoint payload: u32 count, the survivors' indices, then the sum's words (little-endian). */
function encodeCheckpoint(t: { survivors: readonly number[]; sum: Uint32Array }): Uint8Array {
  const out = new Uint32Array(1 + t.survivors.length + t.sum.length);
  out[0] = t.survivors.length;
  out.set(t.survivors, 1);
  out.set(t.sum, 1 + t.survivors.length);
  return new Uint8Array(out.buffer);
}

function decodeCheckpoint(bytes: Uint8Array): { survivors: number[]; sum: Uint32Array } {
  const words = new Uint32Array(bytes.slice().buffer);
  const n = words[0] ?? 0;
  return { survivors: [...words.subarray(1, 1 + n)], sum: words.slice(1 + n) };
}
