import { z } from 'zod';
import { MODEL_KINDS } from '@coopfl/protocol/models';
import { ExperimentConfigSchema } from './config';

/**
 * The schema of `results.json` written by `coopfl-sim run` (version `coopfl-sim/results@1`).
 * Everything that depends on the machine's speed sits in fields named `timing` (and nothing else
 * does), so two runs with the same seed are identical once those are removed
 * ({@link stripTiming}). Metric values that cannot be measured on a shop (e.g. PR-AUC without a
 * fraud case in its test split) are `null`, never guessed.
 */

/** Held-out metrics by name (`MODEL_METRICS[kind]`, e.g. `wape`, `ndcg_10`, `pr_auc`, `loss`). */
export const MetricsSchema = z.record(z.string(), z.number().nullable());
export type MetricValues = z.infer<typeof MetricsSchema>;

const TimingSchema = z.object({ seconds: z.number().min(0) });

/** The arms every model is evaluated under, on every shop's held-out test split. */
export const ARMS = [
  'federated_final',
  'federated_best',
  'federated_tuned',
  'local',
  'centralized',
] as const;
export type Arm = (typeof ARMS)[number];

/** One shop's figures for one model. */
export const ShopResultSchema = z.object({
  storeId: z.string(),
  /** Examples per split; null when the shop has no usable data for this model. */
  counts: z.object({ train: z.number(), validation: z.number(), test: z.number() }).nullable(),
  /** Why the shop was left out of this model (e.g. no fraud labels), else null. */
  skipped: z.string().nullable(),
  /** Test metrics of each arm (see {@link ARMS}). */
  arms: z.record(z.enum(ARMS), MetricsSchema),
  /** The model kind's baselines (e.g. `seasonal_naive`, `popularity`, `amount_rule`). */
  baselines: z.record(z.string(), MetricsSchema),
});

/** One federated round: who took part, and the new global model on every shop's test split. */
export const RoundResultSchema = z.object({
  round: z.number().int().min(1),
  /** `done` or `failed` (fewer survivors than the threshold, …). */
  status: z.string(),
  resultVersion: z.number().int().nullable(),
  error: z.string().nullable(),
  /** Store ids of the nodes the simulator kept offline this round (dropout injection). */
  dropped: z.array(z.string()),
  /** Store ids of the online nodes the simulator started late this round (straggler injection). */
  stragglers: z.array(z.string()).default([]),
  /** Members whose updates were aggregated (from the coordinator's model metrics). */
  survivors: z.number().int().nullable(),
  /** Node refusals and errors seen this round (consent, budget, no data, …). */
  refusals: z.number().int(),
  errors: z.number().int(),
  /** Updates the nodes clipped to the clip norm (many: C limits progress without DP). */
  clipped: z.number().int(),
  /** Mean over shops of the global model's test metrics after this round (null if failed). */
  mean: MetricsSchema.nullable(),
  /** Per shop (same order as `shops`), test metrics after this round. */
  perShop: z.array(MetricsSchema.nullable()),
  /** Mean validation value of the main metric (used to pick the best round). */
  validationMain: z.number().nullable(),
  timing: TimingSchema,
});

/** Mean and median over shops of each metric, per arm and baseline. */
export const SummarySchema = z.record(
  z.string(),
  z.object({ mean: MetricsSchema, median: MetricsSchema, shops: z.number().int() }),
);

/** One arm against local-only and centralized on the main metric (see `comparison`). */
const ComparisonSchema = z.object({
  medianGainOverLocal: z.number().nullable(),
  shopsFederatedBeatsLocal: z.number().int(),
  shopsCompared: z.number().int(),
  gapToCentralized: z.number().nullable(),
});

/** One model's results. */
export const ModelResultSchema = z.object({
  kind: z.enum(MODEL_KINDS),
  /** WAPE (demand, lower is better), NDCG@10 (recommendation), PR-AUC (fraud). */
  mainMetric: z.string(),
  higherIsBetter: z.boolean(),
  metrics: z.array(z.string()),
  dim: z.number().int(),
  architecture: z.unknown(),
  /** The model config given to the coordinator (strategy, dp, secagg, training). */
  modelConfig: z.unknown(),
  shops: z.array(ShopResultSchema),
  rounds: z.array(RoundResultSchema),
  /** Round with the best mean validation main metric (its test metrics are `federated_best`). */
  bestRound: z.number().int().nullable(),
  summary: SummarySchema,
  /**
   * Median over shops of the per-shop relative gain of federated (best round) over local-only on
   * the main metric (positive = federated better), and federated's gap to centralized on the
   * median-shop metric (positive = federated worse), as fractions. `personalized`: the same for
   * federated + local fine-tuning (`federated_tuned`; null when fine-tuning is off).
   */
  comparison: ComparisonSchema.extend({ personalized: ComparisonSchema.nullable() }),
  privacy: z.object({
    mode: z.enum(['off', 'central', 'distributed']),
    /** Always `member`: member-level DP over rounds (DESIGN §6). */
    unit: z.literal('member'),
    epsilonTarget: z.number().nullable(),
    noiseMultiplier: z.number(),
    delta: z.number(),
    clipNorm: z.number(),
    /** Largest ε any member spent on this model, from the coordinator's ledger (null: no DP). */
    epsilonSpent: z.number().nullable(),
    /** ε spent per shop (same order as `shops`), from the ledger. */
    perShop: z.array(z.number().nullable()),
    ledgerRows: z.number().int(),
    /**
     * Under DP (with `privacyReference`): the same rounds from the same initial weights without
     * DP — its best round by validation, per-shop test metrics and median main metric — and the
     * quality DP cost: the relative loss of the median-shop main metric of `federated_best` against
     * it (positive = DP worse). Null without DP.
     */
    reference: z
      .object({
        bestRound: z.number().int().nullable(),
        perShop: z.array(MetricsSchema.nullable()),
        medianMain: z.number().nullable(),
        qualityCost: z.number().nullable(),
      })
      .nullable(),
  }),
  /** Bytes of round messages and weights the coordinator received (up) and sent (down). */
  cost: z.object({
    bytesUp: z.number(),
    bytesDown: z.number(),
    roundsDone: z.number().int(),
    roundsFailed: z.number().int(),
  }),
  timing: z.object({
    prepareSeconds: z.number(),
    federatedSeconds: z.number(),
    localSeconds: z.number(),
    centralizedSeconds: z.number(),
  }),
});
export type ModelResult = z.infer<typeof ModelResultSchema>;

/** The whole `results.json`. */
export const ResultsSchema = z.object({
  schema: z.literal('coopfl-sim/results@1'),
  versions: z.object({ coopfl: z.string(), tfBackend: z.string() }),
  config: ExperimentConfigSchema,
  /** The experiment seed; every other seed is derived from it (see `deriveSeed`). */
  seed: z.number().int(),
  /** Shops, largest first (by orders). */
  shops: z.array(z.object({ storeId: z.string(), orders: z.number().int() })),
  /** Store ids of the malicious members (`config.malicious`), empty when none. */
  malicious: z.array(z.string()),
  models: z.array(ModelResultSchema),
  timing: z.object({
    startedAt: z.string(),
    setupSeconds: z.number(),
    wallSeconds: z.number(),
    /** Node.js version and platform of the run. */
    runtime: z.string(),
    /** Peak resident memory of the process (all threads), MB. */
    peakRssMb: z.number(),
    /** Worker threads the nodes ran in (0: the simulator's own thread). */
    workers: z.number().int().min(0).optional(),
  }),
});
export type ExperimentResults = z.infer<typeof ResultsSchema>;

/** A copy of `results` without its `timing` fields (for reproducibility checks). */
export function stripTiming(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripTiming);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => k !== 'timing')
        .map(([k, v]) => [k, stripTiming(v)]),
    );
  }
  return value;
}
