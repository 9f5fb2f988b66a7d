import { ProtocolError } from '../errors';
import type { KeyPair } from '../crypto/primitives';
import type { RandomSource } from '../crypto/random';
import type { ClientInput, ClientState } from './client';
import { clientNext, createClient } from './client';
import type { SecAggConfig } from './config';
import type { AggregateResult, Outgoing, ServerStage, ServerState } from './server';
import { createServer, serverNext } from './server';

/**
 * How a client talks to the server during one round. The in-memory channel below and the HTTP
 * channel of the coordinator implement it, so {@link runClient} is the same code in the simulator,
 * the tests and a shop's node.
 */
export interface RoundChannel {
  /** Delivers one client message to the server. Rejections surface as a ProtocolError. */
  send(from: number, bytes: Uint8Array): Promise<void>;
  /** The next server message for `to`, or undefined once the round has ended for it. */
  receive(to: number): Promise<Uint8Array | undefined>;
}

/**
 * Drives one client through a round over a channel; resolves when it has sent its unmask reply.
 * `onCompute` receives the milliseconds each of the client's own transitions took.
 */
export async function runClient(
  channel: RoundChannel,
  initial: ClientState,
  opts: { onCompute?: (ms: number) => void } = {},
): Promise<ClientState> {
  let state = initial;
  let event: Parameters<typeof clientNext>[1] = { type: 'start' };
  for (;;) {
    const t0 = performance.now();
    const step = clientNext(state, event);
    opts.onCompute?.(performance.now() - t0);
    if (!step.ok) throw step.error;
    state = step.state;
    for (const bytes of step.out) await channel.send(state.o.index, bytes);
    if (state.stage === 'done') return state;
    const next = await channel.receive(state.o.index);
    if (next === undefined) return state;
    event = { type: 'message', bytes: next };
  }
}

/**
 * A server hosted in this process. Stages close when every expected client has answered or when
 * `stageTimeoutMs` passes without progress; `result` settles when the round ends.
 */
export class InMemoryChannel implements RoundChannel {
  #state: ServerState;
  readonly #inbox = new Map<number, Uint8Array[]>();
  readonly #waiters = new Map<number, (b: Uint8Array | undefined) => void>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly result: Promise<AggregateResult>;
  #settle!: (r: AggregateResult | ProtocolError) => void;
  /** Bytes each client sent, by index. */
  readonly bytesUp = new Map<number, number>();

  constructor(
    config: SecAggConfig,
    private readonly stageTimeoutMs = 2_000,
  ) {
    this.#state = createServer(config);
    this.result = new Promise((resolve, reject) => {
      this.#settle = (r) => (r instanceof ProtocolError ? reject(r) : resolve(r));
    });
    this.result.catch(() => undefined);
    this.#arm();
  }

  send(from: number, bytes: Uint8Array): Promise<void> {
    this.bytesUp.set(from, (this.bytesUp.get(from) ?? 0) + bytes.length);
    const step = serverNext(this.#state, { type: 'message', bytes });
    this.#apply(step.state, step.ok ? step.out : []);
    return step.ok || step.state.stage === 'failed'
      ? Promise.resolve()
      : Promise.reject(step.error);
  }

  receive(to: number): Promise<Uint8Array | undefined> {
    const queued = this.#inbox.get(to)?.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#state.stage === 'done' || this.#state.stage === 'failed')
      return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.set(to, resolve));
  }

  #apply(next: ServerState, out: Outgoing[]): void {
    const before = this.#state.stage;
    this.#state = next;
    for (const { to, bytes } of out) {
      const waiter = this.#waiters.get(to);
      this.#waiters.delete(to);
      if (waiter) waiter(bytes);
      else this.#inbox.set(to, [...(this.#inbox.get(to) ?? []), bytes]);
    }
    if (next.stage === 'done' || next.stage === 'failed') {
      clearTimeout(this.#timer);
      for (const w of this.#waiters.values()) w(undefined);
      this.#waiters.clear();
      this.#settle(next.stage === 'done' ? next.result : next.error);
    } else if (next.stage !== before) {
      this.#arm();
    }
  }

  #arm(): void {
    clearTimeout(this.#timer);
    const stage = this.#state.stage as ServerStage;
    this.#timer = setTimeout(() => {
      const step = serverNext(this.#state, { type: 'deadline', stage });
      this.#apply(step.state, step.ok ? step.out : []);
    }, this.stageTimeoutMs);
    this.#timer.unref?.();
  }
}

/** At which stage a client stops answering: it sends nothing from that stage on. */
export type DropPlan = ReadonlyMap<number, ServerStage>;

export interface RoundRunOptions {
  config: SecAggConfig;
  identities: readonly KeyPair[];
  inputs: readonly ClientInput[];
  drop?: DropPlan;
  random?: (index: number) => RandomSource;
  /** Distributed DP: each client's Skellam μ (see ClientOptions.skellamMu). */
  skellamMu?: number;
  /** Called as each stage starts, for progress displays. */
  onStage?: (stage: ServerStage, index: number) => void;
}

export interface RoundReport {
  result?: AggregateResult;
  error?: ProtocolError;
  /** Milliseconds each client spent in its own transitions, summed over the round. */
  clientMs: Map<number, number>;
  /** Milliseconds the server spent in its transitions (all stages, unmasking included). */
  serverMs: number;
  /** The same, by stage (each stage's messages and its closing, e.g. unmasking for 'unmask'). */
  serverStageMs: Partial<Record<ServerStage, number>>;
  /** Bytes each client sent. */
  bytesUp: Map<number, number>;
  /** Bytes each client received. */
  bytesDown: Map<number, number>;
  /** Each client's last state (undefined for none), e.g. to replay requests against it. */
  clients: (ClientState | undefined)[];
}

const STAGES: readonly ServerStage[] = ['advertise', 'shares', 'masked', 'unmask'];

/**
 * Runs a whole round in lock step in this process: each stage, every live client handles its
 * server message, then the server takes the clients' messages and the stage deadline. Used by the
 * tests and the benchmark, which need per-party timings and scripted dropouts.
 */
export function runRound(opts: RoundRunOptions): RoundReport {
  const { config } = opts;
  const n = config.ids.length;
  const clients: (ClientState | undefined)[] = [];
  const report: RoundReport = {
    clientMs: new Map(),
    serverMs: 0,
    serverStageMs: {},
    bytesUp: new Map(),
    bytesDown: new Map(),
    clients,
  };
  const add = (m: Map<number, number>, k: number, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    clients.push(
      createClient({
        config,
        index: i,
        identity: opts.identities[i]!,
        input: opts.inputs[i]!,
        ...(opts.random ? { random: opts.random(i) } : {}),
        ...(opts.skellamMu ? { skellamMu: opts.skellamMu } : {}),
      }),
    );
    add(report.clientMs, i, performance.now() - t0);
  }
  let server: ServerState = createServer(config);
  let inbox = new Map<number, Uint8Array>();
  for (const stage of STAGES) {
    opts.onStage?.(stage, STAGES.indexOf(stage));
    const toServer: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const c = clients[i];
      if (!c) continue;
      const dropAt = opts.drop?.get(i);
      if (dropAt && STAGES.indexOf(dropAt) <= STAGES.indexOf(stage)) continue;
      const msg = inbox.get(i);
      if (stage !== 'advertise' && !msg) continue; // excluded by the server
      if (msg) add(report.bytesDown, i, msg.length);
      const t0 = performance.now();
      const step = clientNext(c, msg ? { type: 'message', bytes: msg } : { type: 'start' });
      add(report.clientMs, i, performance.now() - t0);
      if (!step.ok) {
        report.error = step.error;
        return report;
      }
      clients[i] = step.state;
      for (const bytes of step.out) {
        add(report.bytesUp, i, bytes.length);
        toServer.push(bytes);
      }
    }
    inbox = new Map();
    const t0 = performance.now();
    const events = [
      ...toServer.map((bytes) => ({ type: 'message' as const, bytes })),
      { type: 'deadline' as const, stage },
    ];
    for (const ev of events) {
      const step = serverNext(server, ev);
      server = step.state;
      if (!step.ok && server.stage !== 'failed') {
        report.error = step.error;
        report.serverMs += performance.now() - t0;
        return report;
      }
      if (step.ok) for (const o of step.out) inbox.set(o.to, o.bytes);
    }
    report.serverStageMs[stage] = performance.now() - t0;
    report.serverMs += performance.now() - t0;
    if (server.stage === 'failed') {
      report.error = server.error;
      return report;
    }
  }
  if (server.stage === 'done') report.result = server.result;
  return report;
}
