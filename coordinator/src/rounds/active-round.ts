import { ProtocolError } from '@coopfl/protocol';
import type {
  AggregateResult,
  SecAggConfig,
  ServerStage,
  ServerState,
} from '@coopfl/protocol/secagg';
import { createServer, maskedTotals, serverNext } from '@coopfl/protocol/secagg';

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

export interface RoundEventLog {
  append(event: RoundEvent): Promise<void>;
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

export type RoundOutcome =
  { ok: true; result: AggregateResult } | { ok: false; error: ProtocolError };

export class ActiveRound {
  #state: ServerState;
  #seq = 0;
  readonly #inbox = new Map<number, Map<InboxKind, Uint8Array>>();
  #queue: Promise<unknown> = Promise.resolve();
  readonly #listeners = new Set<() => void>();

  private constructor(
    readonly config: SecAggConfig,
    private readonly log: RoundEventLog,
  ) {
    this.#state = createServer(config);
  }

  /** A new round, or one rebuilt from its logged events (in sequence order). */
  static restore(
    config: SecAggConfig,
    log: RoundEventLog,
    events: readonly RoundEvent[] = [],
  ): ActiveRound {
    const round = new ActiveRound(config, log);
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

  /** Applies a client message; resolves once it is durable, rejects with the protocol's named error. */
  submit(clientIndex: number, bytes: Uint8Array): Promise<void> {
    return this.#serial(async () => {
      const stage = this.#state.stage;
      if (stage === 'done' || stage === 'failed') {
        throw new ProtocolError('RoundClosed', `round ${this.config.roundId} is ${stage}`);
      }
      const before = this.#state;
      const step = serverNext(before, { type: 'message', bytes });
      if (!step.ok && step.state.stage !== 'failed') throw step.error;
      // The message was accepted (possibly closing the stage); it is logged before anyone sees it.
      await this.#log({
        kind: 'message',
        stage,
        clientIndex,
        payload: stage === 'masked' ? null : bytes,
      });
      // `before` was updated in place by the accepted input, so it holds the stage's final totals.
      if (stage === 'masked' && step.state.stage !== 'masked') {
        await this.#checkpoint(maskedTotals(before));
      }
      this.#absorb(step.state, step.ok ? step.out : [], stage);
    });
  }

  /** Closes `stage` if it is still open (its deadline passed). */
  deadline(stage: ServerStage): Promise<void> {
    return this.#serial(async () => {
      if (this.#state.stage !== stage) return;
      const totals = stage === 'masked' ? maskedTotals(this.#state) : undefined;
      const step = serverNext(this.#state, { type: 'deadline', stage });
      if (totals) await this.#checkpoint(totals);
      else await this.#log({ kind: 'deadline', stage, clientIndex: null, payload: null });
      this.#absorb(step.state, step.ok ? step.out : [], stage);
    });
  }

  /** Logs the masked stage's close: its survivors and sum (taken before a failed close). */
  async #checkpoint(totals: ReturnType<typeof maskedTotals>): Promise<void> {
    if (!totals) throw new Error('masked-stage checkpoint without totals');
    await this.#log({
      kind: 'checkpoint',
      stage: 'masked',
      clientIndex: null,
      payload: encodeCheckpoint(totals),
    });
  }

  async #log(e: Omit<RoundEvent, 'seq'>): Promise<void> {
    const seq = this.#seq + 1;
    await this.log.append({ ...e, seq });
    this.#seq = seq;
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

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }
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
