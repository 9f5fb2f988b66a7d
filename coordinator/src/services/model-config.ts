import { z } from 'zod';
import { ArchitectureSchema } from '@coopfl/protocol/models';
import { StrategyConfigSchema } from '@coopfl/protocol/strategy';

/**
 * How a model is trained by the cooperative: server optimizer, privacy, secure-aggregation and
 * local-training parameters. Stored in `models.config`; every round copies the values it used.
 *
 * Trade-offs an admin sets here:
 * - `dp.clipNorm` C bounds each member's influence; too small biases updates, too large needs more
 *   noise for the same ε. Updates are clipped to C at the node before secure aggregation.
 * - `dp.noiseMultiplier` z: Gaussian noise σ = z·C on the sum (member-level DP, unit weights).
 * - `secagg.thresholdFraction`: shares needed, as a fraction of each share set; higher resists
 *   collusion better, lower tolerates more dropouts (must exceed ½).
 */
export const ModelConfigSchema = z.object({
  /**
   * The network, for the cooperative's model kinds (demand, recommendation, fraud): members build
   * it to train and evaluate, and the model's dim is its weight count. Absent for other kinds.
   */
  architecture: ArchitectureSchema.optional(),
  strategy: StrategyConfigSchema.default({ kind: 'fedavg', eta: 1 }),
  dp: z
    .object({
      /**
       * `central`: the coordinator adds Gaussian noise to the unmasked sum. `distributed`: each
       * member adds Skellam noise before masking, so the coordinator never sees a noiseless sum.
       */
      mode: z.enum(['off', 'central', 'distributed']).default('off'),
      clipNorm: z.number().positive().default(1),
      noiseMultiplier: z.number().min(0).default(0),
      delta: z.number().positive().max(0.1).default(1e-5),
      /** Each member's ε budget for this model (member-level); rounds that would exceed it skip the member. */
      epsilonBudget: z.number().positive().default(10),
    })
    .default({ mode: 'off', clipNorm: 1, noiseMultiplier: 0, delta: 1e-5, epsilonBudget: 10 }),
  secagg: z
    .object({
      neighbors: z.number().int().positive().optional(),
      thresholdFraction: z.number().gt(0.5).max(1).optional(),
      minClients: z.number().int().min(2).default(2),
    })
    .default({ minClients: 2 }),
  /** Poisson sampling rate of members per round (1: every eligible member). */
  samplingRate: z.number().gt(0).max(1).default(1),
  /** Bound on a member's aggregation weight (its capped example count; 1 under DP). */
  maxWeight: z.number().positive().default(1),
  /** Bound on the metric values members report in evaluation rounds (the quantization range). */
  evalRange: z.number().positive().default(1000),
  /** Time each secure-aggregation stage waits for slow members. */
  stageTimeoutMs: z
    .number()
    .int()
    .min(100)
    .max(24 * 3600_000)
    .default(60_000),
  training: z
    .object({
      epochs: z.number().int().min(1).default(1),
      learningRate: z.number().positive().default(0.01),
      batchSize: z.number().int().positive().default(64),
      /** FedProx proximal weight μ (0: FedAvg local training). */
      mu: z.number().min(0).default(0),
    })
    .default({ epochs: 1, learningRate: 0.01, batchSize: 64, mu: 0 }),
});
export type ModelConfig = z.infer<typeof ModelConfigSchema>;
export type ModelConfigInput = z.input<typeof ModelConfigSchema>;

/**
 * The cap on a member's weight in a training round's aggregate: `maxWeight`, or 1 under DP, where
 * every member must count the same for the noise to cover any one of them.
 *
 * @example
 * trainingWeightCap({ maxWeight: 1e6, dp: { mode: 'central' } }); // 1
 */
export const trainingWeightCap = (cfg: {
  readonly maxWeight: number;
  readonly dp: { readonly mode: string };
}): number => (cfg.dp.mode !== 'off' ? 1 : cfg.maxWeight);
