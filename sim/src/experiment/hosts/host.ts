import type { Architecture, ModelKind } from '@coopfl/protocol/models';
import type { MainMetric } from '@coopfl/node/models';
import type { TrainableData } from '../arms';
import type { Attack } from '../malicious';
import type { MetricValues } from '../results';

/**
 * A group of simulated member nodes living in one thread, and the operations the experiment runs
 * on them. Two implementations share this interface and one conformance suite
 * (`conformance.test.ts`): {@link InProcessHost} (the nodes run in the caller's thread) and
 * `WorkerHost` (an `InProcessHost` in a worker thread, driven by messages). Every node is a real
 * node (`initNode` → `openNode` → canonical CSV import → `node.run({ once: true })` per round);
 * a host only decides which thread it runs in.
 *
 * Every method takes one input object (so calls cross a thread boundary unchanged) and, where it
 * goes node by node, a `tick` called once per node done (progress bars). Results carry the
 * node's experiment `index`; a host holds any subset of the experiment's nodes.
 */
export interface NodeHost {
  /** Opens one node per spec: join with its invite, open its store, import its shop's CSV. */
  open(input: { readonly specs: readonly NodeSpec[] }, tick?: Tick): Promise<JoinedNode[]>;
  /**
   * Prepares every node's data for `kind` through the node's own cached runtime (the very data
   * its client loop trains on); later calls for that kind use it.
   */
  prepare(input: PrepareInput, tick?: Tick): Promise<PrepareOutcome[]>;
  /** Runs one federated round on this host's online nodes (see {@link RoundJob}). */
  runRound(input: RoundJob): Promise<RoundCounts>;
  /** Metrics of `weights` on each prepared node's test or validation split (null: skipped). */
  evaluate(input: EvaluateInput): Promise<NodeMetrics[]>;
  /**
   * Trains each job's node alone from `weights` on its training split (local-only and
   * fine-tuned arms) and returns the trained model's test metrics (null: skipped).
   */
  train(input: TrainInput, tick?: Tick): Promise<NodeMetrics[]>;
  /** The kind's baselines on each prepared node's test split (empty for a skipped node). */
  baselines(input: KindInput): Promise<NodeBaselines[]>;
  /** Each usable node's prepared data, for pooling (the centralized arm). */
  trainingData(input: KindInput): Promise<NodeTrainingData[]>;
  /** Closes every node and its store. */
  close(): Promise<void>;
}

export interface KindInput {
  readonly kind: ModelKind;
}

export interface PrepareInput extends KindInput {
  readonly arch: Architecture;
}

export interface EvaluateInput extends PrepareInput {
  readonly weights: Float32Array;
  readonly split: 'test' | 'validation';
}

export interface TrainInput extends PrepareInput {
  /** The weights every job starts from. */
  readonly weights: Float32Array;
  readonly jobs: readonly TrainJob[];
  /**
   * Early stopping: keep the epoch that scores best on the node's own validation split by this
   * metric (see `trainSelected`). Absent: the last epoch.
   */
  readonly select?: MainMetric;
  /**
   * Each job is the node's personalization (`personalizeWeights`): fine-tuning of the given
   * shared weights, kept at the best epoch by the kind's main metric, the shared model included.
   */
  readonly personalize?: boolean;
}

/** Called once per node an operation is done with. */
export type Tick = () => void;

/** Settings shared by the nodes of a host. */
export interface HostSettings {
  /** The experiment seed (each node's random stream is derived from it and its index). */
  readonly seed: number;
  readonly coordinatorUrl: string;
  /** A migrated node store directory copied for each node (see `createStoreTemplate`). */
  readonly storeTemplate: string;
}

/** One member as the main thread hands it to a host. */
export interface NodeSpec {
  /** The shop's position in the experiment (largest first); seeds are derived from it. */
  readonly index: number;
  readonly storeId: string;
  /** The shop's size (orders): hosts are given like totals, so none waits on another. */
  readonly orders: number;
  /** An invite the main thread created through the admin API. */
  readonly invite: string;
  /** The shop's canonical CSV files. */
  readonly csvDir: string;
  /** The node's data directory (config, keys, store database); created by the host. */
  readonly dir: string;
  /** A malicious member's attack (its node runs wrapped model runtimes), else null. */
  readonly attack: Attack | null;
}

export interface JoinedNode {
  readonly index: number;
  readonly memberId: string;
  /** Membership status right after joining (`approved` when the coordinator auto-approves). */
  readonly status: string;
}

/** A node's prepared data: its split sizes, or why it cannot take part in this model. */
export interface PrepareOutcome {
  readonly index: number;
  readonly counts: {
    readonly train: number;
    readonly validation: number;
    readonly test: number;
  } | null;
  readonly skipped: string | null;
}

/**
 * One round for a host's nodes. Every node of the host is re-seeded from (seed, node, kind,
 * round) first; the `online` ones run their client loop once, the `late` among them after
 * `delayMs`.
 */
export interface RoundJob {
  readonly roundId: string;
  readonly kind: ModelKind;
  readonly round: number;
  /** Experiment indices of the nodes that poll this round. */
  readonly online: readonly number[];
  /** Experiment indices of the online nodes that start late (stragglers). */
  readonly late: readonly number[];
  readonly delayMs: number;
}

/** What the nodes reported about the round (its events for `roundId`). */
export interface RoundCounts {
  readonly refusals: number;
  readonly errors: number;
  /** Updates clipped to the clip norm. */
  readonly clipped: number;
}

/** One node's training run outside the federation. */
export interface TrainJob {
  readonly index: number;
  readonly epochs: number;
  readonly learningRate: number;
  readonly batchSize: number;
  readonly mu: number;
  /** Seed of the run's random stream (shuffles), e.g. `deriveSeed(seed, 'local', kind, i)`. */
  readonly seed: Uint8Array;
}

export interface NodeMetrics {
  readonly index: number;
  readonly metrics: MetricValues | null;
}

export interface NodeBaselines {
  readonly index: number;
  readonly baselines: Record<string, MetricValues>;
}

export interface NodeTrainingData {
  readonly index: number;
  readonly data: TrainableData;
}
