import type { RandomSource } from '@coopfl/protocol';
import type { Architecture, ModelKind } from '@coopfl/protocol/models';
import type { StoreSource } from '../store/source';
import type { DpSgdEvent } from '../train/step-log';

/**
 * The contract between the three models (`node/src/models/{demand,recommendation,fraud}.ts`) and
 * the node's runtime (federated client, local serving, CLI, simulator). Weights always travel as
 * one flat float32 vector laid out by `manifestOf(arch)` from `@coopfl/protocol/models`.
 */

/** How local training runs: copied from the coordinator's signed task (`model.training`, `dp`). */
export interface LocalTrainingConfig {
  readonly epochs: number;
  readonly learningRate: number;
  readonly batchSize: number;
  /** FedProx proximal weight μ (0: plain FedAvg local training). */
  readonly mu: number;
  /**
   * Optional record-level DP-SGD (per-example clipping + Gaussian noise, Poisson-free fixed-size
   * batches accounted at q = batchSize / examples). Absent: non-private local steps.
   */
  readonly recordDp?: { readonly clipNorm: number; readonly noiseMultiplier: number };
  /** Shuffling and DP noise. Production: `systemRandom()`; tests and simulations: seeded. */
  readonly random: RandomSource;
  /**
   * Called after each epoch (progress bars); `weights()` copies the weights reached so far (early
   * stopping on validation, as the simulator's local-only and centralized arms do).
   */
  readonly onEpoch?: (epoch: number, epochs: number, weights: () => Float32Array) => void;
}

export interface LocalTrainingResult {
  /** The locally trained weights (same layout as the global weights passed in). */
  readonly weights: Float32Array;
  /** Training examples used: the member's aggregation weight before the coordinator's cap. */
  readonly examples: number;
  /** Record-level DP-SGD releases, for the node's own accountant (empty without recordDp). */
  readonly dpEvents: readonly DpSgdEvent[];
}

/** Held-out metrics, named as `MODEL_METRICS[kind]` orders them (plus any extra diagnostics). */
export type Metrics = Readonly<Record<string, number>>;

/** What a model needs to know about the shop's data that is not a training example. */
export interface PrepareOptions {
  /** The model's network (from the task, or `defaultArchitecture(kind)`). */
  readonly arch: Architecture;
  /**
   * Fractions of the time range for validation and test (default 0.15 each): examples are split
   * by date, never at random, so nothing from the future leaks into training.
   */
  readonly validationFraction?: number;
  readonly testFraction?: number;
  /**
   * The shop whose rows to use when the store database holds several (`store_id`), e.g. a
   * cooperative imported for a demo or the simulator. Omitted: the database must hold one shop.
   */
  readonly storeId?: string;
}

/**
 * A model kind's full life cycle on one shop's data. `D` is the kind's prepared dataset (features,
 * targets, splits, and whatever serving needs, e.g. per-series scales or customer histories).
 */
export interface ModelRuntime<D extends PreparedData = PreparedData> {
  readonly kind: ModelKind;
  /** Reads the store through its views and builds features; throws naming what is missing. */
  prepare(source: StoreSource, opts: PrepareOptions): Promise<D>;
  /** Trains from `global` on the training split. */
  train(
    arch: Architecture,
    global: Float32Array,
    data: D,
    cfg: LocalTrainingConfig,
  ): Promise<LocalTrainingResult>;
  /** Metrics of `weights` on the test split (or validation with `split: 'validation'`). */
  evaluate(
    arch: Architecture,
    weights: Float32Array,
    data: D,
    split?: 'validation' | 'test',
  ): Metrics;
  /** The kind's baselines on the same test split, by name (e.g. `seasonal_naive`, `popularity`). */
  baselines(data: D): Readonly<Record<string, Metrics>>;
}

/** Common to every prepared dataset. */
export interface PreparedData {
  readonly kind: ModelKind;
  /** Examples in each split. */
  readonly counts: { readonly train: number; readonly validation: number; readonly test: number };
  /** Date boundaries of the split (ISO), for reports. */
  readonly split: { readonly validationFrom: string; readonly testFrom: string };
}
