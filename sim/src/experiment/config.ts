import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { MODEL_KINDS, type ModelKind } from '@coopfl/protocol/models';
import { StrategyConfigSchema } from '@coopfl/protocol/strategy';
import { UsageError } from '../usage';

const int = (min: number, max: number) =>
  z
    .number({ error: 'must be a number' })
    .int('must be an integer')
    .min(min, `must be ≥ ${min}`)
    .max(max, `must be ≤ ${max}`);

/**
 * Knobs of the synthetic cooperative (see `SynthOptions` in `@coopfl/node/synth`). The defaults
 * are a cooperative of small shops with two years of history, of which each shop has lived
 * through a random part (`openingSpread` 0.7: the youngest opened 0.7 × 730 days in): the median
 * shop has ~300 customers over its life and carries ~20 of the 100 shared catalog keys — enough
 * sales per key for a weekly forecast to mean something (a sparser catalogue leaves every model,
 * and forecasting zero, at weekly WAPE ≈ 1), and young shops that have not seen a season yet.
 */
const SyntheticDataSchema = z
  .object({
    source: z.literal('synthetic'),
    days: int(60, 3660).default(730),
    customersPerShop: int(20, 100_000).default(300),
    catalogSize: int(10, 100_000).default(100),
    categories: int(1, 200).default(8),
    sizeSkew: z.number().min(0).max(3).default(1),
    categoryConcentration: z.number().positive().max(1000).default(0.5),
    fraudRate: z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]).default([0.03, 0.06]),
    /** Shops open on a day drawn from the first `openingSpread` share of the period. */
    openingSpread: z.number().min(0, 'must be in [0, 1)').lt(1, 'must be in [0, 1)').default(0.7),
    dailySales: z.boolean().default(false),
  })
  .strict();

/** A directory in the canonical CSV layout (DESIGN §3); the `stores` largest shops are used. */
const CanonicalDataSchema = z
  .object({ source: z.literal('canonical'), dir: z.string().min(1, 'is required') })
  .strict();

/**
 * One experiment: a cooperative, the models to train and how. Every field has a default except
 * nothing: `ExperimentConfigSchema.parse({})` is a 5-shop synthetic cooperative, 5 rounds, three
 * models, no DP. Sizes default small (hidden 32, vocabulary 1024) so runs finish in minutes.
 *
 * - `dp: 'central'` calibrates the noise multiplier so that `rounds` rounds at sampling rate 1
 *   spend `epsilon` at the model's δ (member-level, RDP accountant, the coordinator's own).
 *   `'distributed'` asks for the same noise, added by the members as Skellam before masking
 *   (the coordinator never sees a noise-free sum); the ledger's ε is the Skellam mechanism's.
 * - `dropout`: each round, `round(dropout · stores)` nodes chosen by the seed skip the round (they
 *   do not poll), so the advertise stage closes at `stageTimeoutMs` with the survivors.
 * - `thresholdFraction`: SecAgg's share threshold t as a fraction of each share set (> ½); lower
 *   tolerates more dropouts.
 * - `clipNorm`: the L2 bound on each update (SecAgg's range, DP's sensitivity). Default 1 with
 *   DP, 100 without (only the SecAgg range then: clipping would slow plain FedAvg down).
 *
 * @example
 * const cfg = parseExperimentConfig({ stores: 3, rounds: 2, models: ['fraud'] });
 */
export const ExperimentConfigSchema = z
  .object({
    data: z
      .discriminatedUnion('source', [SyntheticDataSchema, CanonicalDataSchema])
      .default(() => SyntheticDataSchema.parse({ source: 'synthetic' })),
    stores: int(2, 1000).default(5),
    /** How nodes reach the coordinator: real HTTP on 127.0.0.1, or its handler in-process. */
    transport: z.enum(['http', 'memory']).default('http'),
    /**
     * Worker threads the member nodes run in (each node in one of them); 0 runs every node in
     * the simulator's own thread. Default: the machine's cores (`os.availableParallelism()`).
     * How the nodes are spread does not change the results, so `results.json` reports it under
     * `timing.workers`, not in its `config`.
     */
    workers: int(0, 256).optional(),
    rounds: int(1, 1000).default(5),
    models: z
      .array(z.enum(MODEL_KINDS))
      .min(1, 'needs at least one model')
      .refine((m) => new Set(m).size === m.length, 'lists a model twice')
      .default([...MODEL_KINDS]),
    dp: z.enum(['off', 'central', 'distributed']).default('off'),
    /** Target ε over all `rounds` (member-level); `Infinity` ≡ no noise. Used with DP on. */
    epsilon: z.number().positive('must be > 0').default(8),
    delta: z.number().positive().max(0.1).default(1e-5),
    /**
     * With DP on: also run the same rounds without DP (a second coordinator model from the same
     * initial weights), so the report states the quality DP cost. An ε sweep turns it off (its
     * `inf` point is that reference).
     */
    privacyReference: z.boolean().default(true),
    clipNorm: z.number().positive().optional(),
    dropout: z.number().min(0, 'must be in [0, 1)').lt(1, 'must be in [0, 1)').default(0),
    /**
     * Stragglers: each round `round(fraction · stores)` of the online shops (chosen by the seed)
     * start `delayMs` late, as a slow or busy shop. Within the stage timeout the round waits for
     * them; beyond it they miss the advertise stage, decline the round as late, and it goes on.
     */
    stragglers: z
      .object({
        fraction: z.number().min(0, 'must be in [0, 1)').lt(1, 'must be in [0, 1)').default(0),
        delayMs: int(0, 3_600_000).default(5_000),
      })
      .strict()
      .default({ fraction: 0, delayMs: 5_000 }),
    thresholdFraction: z
      .number()
      .gt(0.5, 'must be in (0.5, 1]')
      .max(1)
      .default(2 / 3),
    /**
     * Malicious members: `round(fraction · stores)` shops chosen by the seed run a node whose
     * local training returns a scaled (`factor`×) or sign-flipped update (see `malicious.ts`).
     */
    malicious: z
      .object({
        fraction: z.number().min(0, 'must be in [0, 1)').lt(1, 'must be in [0, 1)').default(0),
        attack: z.enum(['scale', 'sign-flip']).default('scale'),
        factor: z.number().default(10),
      })
      .strict()
      .default({ fraction: 0, attack: 'scale', factor: 10 }),
    seed: int(0, 2 ** 31 - 1).default(1),
    training: z
      .object({
        epochs: int(1, 100).default(1),
        learningRate: z.number().positive().default(0.01),
        batchSize: int(1, 65536).default(64),
        mu: z.number().min(0).default(0),
        /**
         * Personalization: epochs each shop trains the final global model on its own data for
         * the `federated_tuned` arm (a shop-specific copy; nothing leaves the shop). 0 = off.
         */
        fineTuneEpochs: int(0, 100).default(2),
      })
      .strict()
      .default({ epochs: 1, learningRate: 0.01, batchSize: 64, mu: 0, fineTuneEpochs: 2 }),
    architecture: z
      .object({
        hidden: int(1, 4096).default(32),
        vocab: int(16, 1 << 20).default(1024),
        embeddingDim: int(1, 1024).default(16),
      })
      .strict()
      .default({ hidden: 32, vocab: 1024, embeddingDim: 16 }),
    /** FedAvg's server step η for the kinds whose default strategy is FedAvg (default 1). */
    serverLearningRate: z.number().positive().optional(),
    /**
     * The coordinator's server optimizer per model kind (FedAvg, FedAdam, FedYogi, FedAdagrad and
     * their parameters, as `coopfl-coordinator model create` takes them); a kind not named uses
     * its `defaultStrategy` (FedAdam η 0.03 for recommendation, FedAvg for the others, with η =
     * `serverLearningRate` when that is set).
     */
    strategies: z.partialRecord(z.enum(MODEL_KINDS), StrategyConfigSchema).default({}),
    /**
     * Aggregation weight cap per member (its example count, capped), for every model or per model
     * kind (`{"recommendation": 1e6}`; a kind not named gets 1). 1 = every shop counts the same;
     * large = example-weighted. Forced to 1 by the coordinator under DP.
     */
    maxWeight: z
      .union([
        z.number().positive('must be > 0'),
        z.partialRecord(z.enum(MODEL_KINDS), z.number().positive('must be > 0')),
      ])
      .default(1),
    /**
     * How long each secure-aggregation stage waits for slow or dropped members (local training
     * happens inside the first stage). Default: 30 s with dropouts (every round with an offline
     * shop waits this long), 10 min without (only a safety net for slow training).
     */
    stageTimeoutMs: int(1000, 3_600_000).optional(),
  })
  .strict();

/** A parsed experiment config (every default filled in). */
export type ExperimentConfig = z.infer<typeof ExperimentConfigSchema>;
/** What a config file or the CLI may give (defaults optional). */
export type ExperimentConfigInput = z.input<typeof ExperimentConfigSchema>;

/**
 * Parses an experiment config; the first problem becomes a {@link UsageError} naming the field
 * by its path (e.g. `config.training.epochs: must be ≥ 1`), so the CLI exits with code 2.
 *
 * @example
 * parseExperimentConfig({ rounds: 0 }); // throws UsageError('config.rounds: must be ≥ 1')
 */
export function parseExperimentConfig(raw: unknown): ExperimentConfig {
  const r = ExperimentConfigSchema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = ['config', ...(issue?.path ?? []).map(String)].join('.');
  throw new UsageError(`${path}: ${issue?.message ?? 'invalid'}`);
}

/** The stage timeout used: configured, else 30 s with dropouts and 10 min without. */
export const stageTimeoutOf = (cfg: ExperimentConfig): number =>
  cfg.stageTimeoutMs ?? (cfg.dropout > 0 ? 30_000 : 600_000);

/** Worker threads for the nodes: configured, else one per core. */
export const workersOf = (cfg: ExperimentConfig): number => cfg.workers ?? availableParallelism();

/** A model kind's aggregation weight cap: the configured number, its own entry, else 1. */
export const maxWeightOf = (cfg: ExperimentConfig, kind: ModelKind): number =>
  typeof cfg.maxWeight === 'number' ? cfg.maxWeight : (cfg.maxWeight[kind] ?? 1);

/** The clip norm used: configured, else 1 under DP and 100 without. */
export const clipNormOf = (cfg: ExperimentConfig): number =>
  cfg.clipNorm ?? (cfg.dp === 'off' ? 100 : 1);
