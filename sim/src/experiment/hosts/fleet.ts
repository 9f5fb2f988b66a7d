import type { Transport } from '@coopfl/coordinator/client';
import type {
  EvaluateInput,
  HostSettings,
  JoinedNode,
  KindInput,
  NodeBaselines,
  NodeHost,
  NodeMetrics,
  NodeSpec,
  NodeTrainingData,
  PrepareInput,
  PrepareOutcome,
  RoundCounts,
  RoundJob,
  Tick,
  TrainInput,
} from './host';
import { InProcessHost } from './in-process';
import { WorkerHost } from './worker';

/** Results of the hosts, in experiment order (by `index`). */
const merged = async <T extends { index: number }>(parts: Promise<T[]>[]): Promise<T[]> =>
  (await Promise.all(parts)).flat().sort((a, b) => a.index - b.index);

/**
 * The cooperative's member nodes spread over {@link NodeHost}s: `workers` worker threads (each
 * with a like share of the shops' orders), or, with `workers: 0`, one host in the caller's thread. Each operation runs on every host at once
 * and returns one entry per node, in experiment order.
 *
 * @example
 * const fleet = await NodeFleet.start({ workers: 2, nodes: shops.length, settings });
 * try { await fleet.open(specs); } finally { await fleet.close(); }
 */
export class NodeFleet implements NodeHost {
  readonly #hosts: NodeHost[];
  readonly #workers: number;
  /** Which host holds each node (by experiment index). */
  readonly #owner = new Map<number, number>();

  private constructor(hosts: NodeHost[], workers: number) {
    this.#hosts = hosts;
    this.#workers = workers;
  }

  /**
   * Starts the hosts (at most one worker per node). `fetch`: the coordinator's in-process
   * handler, for the in-memory transport; absent: the nodes use HTTP.
   */
  static async start(o: {
    readonly workers: number;
    readonly nodes: number;
    readonly settings: HostSettings;
    readonly fetch?: Transport;
  }): Promise<NodeFleet> {
    if (o.workers === 0) {
      return new NodeFleet(
        [new InProcessHost({ ...o.settings, ...(o.fetch ? { transport: o.fetch } : {}) })],
        0,
      );
    }
    const n = Math.max(1, Math.min(o.workers, o.nodes));
    const started = await Promise.allSettled(
      Array.from({ length: n }, () =>
        WorkerHost.start(o.settings, o.fetch ? { fetch: o.fetch } : {}),
      ),
    );
    const hosts = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) {
      await Promise.all(hosts.map((h) => h.close().catch(() => undefined)));
      throw failed.reason;
    }
    return new NodeFleet(hosts, hosts.length);
  }

  /** How many worker threads the nodes run in (0: the caller's thread). */
  get workers(): number {
    return this.#workers;
  }

  /**
   * Opens the nodes, each on the host with the fewest orders so far (largest shop first: the
   * hosts' shares of the data, and so of every later step's work, come out nearly equal).
   */
  open(input: { readonly specs: readonly NodeSpec[] }, tick?: Tick): Promise<JoinedNode[]> {
    const load = this.#hosts.map(() => 0);
    const bySize = [...input.specs].sort((a, b) => b.orders - a.orders || a.index - b.index);
    for (const s of bySize) {
      if (this.#owner.has(s.index)) throw new Error(`node ${s.index} is already open`);
      const k = load.indexOf(Math.min(...load));
      this.#owner.set(s.index, k);
      load[k] = load[k]! + s.orders;
    }
    return merged(
      this.#hosts.map((host, k) =>
        host.open({ specs: input.specs.filter((s) => this.#owner.get(s.index) === k) }, tick),
      ),
    );
  }

  prepare(input: PrepareInput, tick?: Tick): Promise<PrepareOutcome[]> {
    return merged(this.#hosts.map((host) => host.prepare(input, tick)));
  }

  async runRound(input: RoundJob): Promise<RoundCounts> {
    const counts = await Promise.all(this.#hosts.map((host) => host.runRound(input)));
    return {
      refusals: counts.reduce((s, c) => s + c.refusals, 0),
      errors: counts.reduce((s, c) => s + c.errors, 0),
      clipped: counts.reduce((s, c) => s + c.clipped, 0),
    };
  }

  evaluate(input: EvaluateInput): Promise<NodeMetrics[]> {
    return merged(this.#hosts.map((host) => host.evaluate(input)));
  }

  train(input: TrainInput, tick?: Tick): Promise<NodeMetrics[]> {
    const stray = input.jobs.find((j) => !this.#owner.has(j.index));
    if (stray) return Promise.reject(new Error(`node ${stray.index} is not open`));
    return merged(
      this.#hosts.map((host, k) =>
        host.train(
          { ...input, jobs: input.jobs.filter((j) => this.#owner.get(j.index) === k) },
          tick,
        ),
      ),
    );
  }

  baselines(input: KindInput): Promise<NodeBaselines[]> {
    return merged(this.#hosts.map((host) => host.baselines(input)));
  }

  trainingData(input: KindInput): Promise<NodeTrainingData[]> {
    return merged(this.#hosts.map((host) => host.trainingData(input)));
  }

  async close(): Promise<void> {
    await Promise.all(this.#hosts.map((h) => h.close().catch(() => undefined)));
  }
}
