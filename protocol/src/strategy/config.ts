import { z } from 'zod';
import { ProtocolError } from '../errors';
import type { ModelKind } from '../models/architecture';

/**
 * Server-optimizer configuration: a discriminated union on `kind`, parsed at every boundary (the
 * admin form, the coordinator's round table, the simulator's CLI). Parameters follow Reddi et al.
 * 2021, "Adaptive Federated Optimization" (ICLR), Algorithm 2:
 *
 * - `eta` (η, server learning rate): the step x_{t+1} = x_t + η·m_t/(√v_t + τ). The paper tunes it
 *   per task on a log₁₀ grid together with the client learning rate; there is no universal value.
 *   Our defaults are starting points to re-tune: 10⁻² for FedAdam and FedYogi, 10⁻¹ for FedAdagrad
 *   (whose denominator only grows), 1 for FedAvg (plain weighted averaging).
 * - `beta1` (β₁, momentum on the mean update): 0.9, the paper's setting. FedAdagrad defaults to 0
 *   (Adagrad proper); Algorithm 2 allows momentum for it too.
 * - `beta2` (β₂, decay of the second moment, FedAdam/FedYogi): 0.99, the paper's setting.
 * - `tau` (τ, "adaptivity"): 10⁻³, the paper's recommended value. τ caps every coordinate's
 *   effective learning rate at η/τ. A smaller τ adapts more (a coordinate's step tends to ≈ η·sign
 *   once |Δ̄| ≫ τ, whatever its scale); a larger τ makes the method behave like FedAvg with
 *   momentum. v starts at τ² (Alg. 2, line 1: v₋₁ ≥ τ²), m at 0.
 *
 * Objects are strict: a misspelt parameter (`beta_1`) is an error, not a silently used default.
 */

const eta = (fallback: number) =>
  z.number().positive('eta (server learning rate) must be > 0').default(fallback);
const beta = (name: string, fallback: number) =>
  z.number().min(0, `${name} must be ≥ 0`).lt(1, `${name} must be < 1`).default(fallback);
const tau = z.number().positive('tau (adaptivity) must be > 0').default(1e-3);

/**
 * FedAvg (McMahan et al. 2017) as a server optimizer: w ← w + η·Δ̄. With η = 1 this is plain
 * weighted averaging of the members' models; η ≠ 1 is "FedAvg with server learning rate".
 *
 * @example
 * FedAvgConfigSchema.parse({ kind: 'fedavg' }); // { kind: 'fedavg', eta: 1 }
 */
export const FedAvgConfigSchema = z.strictObject({ kind: z.literal('fedavg'), eta: eta(1) });

/**
 * FedAdagrad (Reddi et al. 2021, Alg. 2 line 12): v accumulates Δ̄², so the step per coordinate
 * shrinks over rounds — robust with no tuning of a decay, but it can stall in long trainings.
 *
 * @example
 * FedAdagradConfigSchema.parse({ kind: 'fedadagrad', eta: 0.05 });
 */
export const FedAdagradConfigSchema = z.strictObject({
  kind: z.literal('fedadagrad'),
  eta: eta(0.1),
  beta1: beta('beta1', 0),
  tau,
});

/**
 * FedAdam (Reddi et al. 2021, Alg. 2 line 14): exponential moving averages of Δ̄ and Δ̄², without
 * bias correction (as in the paper).
 *
 * @example
 * FedAdamConfigSchema.parse({ kind: 'fedadam' }); // eta 0.01, beta1 0.9, beta2 0.99, tau 0.001
 */
export const FedAdamConfigSchema = z.strictObject({
  kind: z.literal('fedadam'),
  eta: eta(1e-2),
  beta1: beta('beta1', 0.9),
  beta2: beta('beta2', 0.99),
  tau,
});

/**
 * FedYogi (Reddi et al. 2021, Alg. 2 line 13; Zaheer et al. 2018): like FedAdam, but v moves
 * towards Δ̄² by ±(1 − β₂)·Δ̄² only, so it shrinks slowly when updates become small and the
 * effective learning rate cannot jump.
 *
 * @example
 * FedYogiConfigSchema.parse({ kind: 'fedyogi', eta: 0.03 });
 */
export const FedYogiConfigSchema = z.strictObject({
  kind: z.literal('fedyogi'),
  eta: eta(1e-2),
  beta1: beta('beta1', 0.9),
  beta2: beta('beta2', 0.99),
  tau,
});

/**
 * Any server-optimizer configuration; `createOptimizer` turns one into a {@link ServerOptimizer}.
 *
 * @example
 * const config = StrategyConfigSchema.parse({ kind: 'fedyogi' });
 */
export const StrategyConfigSchema = z.discriminatedUnion('kind', [
  FedAvgConfigSchema,
  FedAdagradConfigSchema,
  FedAdamConfigSchema,
  FedYogiConfigSchema,
]);

/**
 * A parsed configuration: every parameter present (what the coordinator stores with a round).
 *
 * @example
 * const stored: StrategyConfig = StrategyConfigSchema.parse(form);
 */
export type StrategyConfig = z.infer<typeof StrategyConfigSchema>;
/**
 * A configuration as written by a user: parameters with defaults may be left out.
 *
 * @example
 * const input: StrategyConfigInput = { kind: 'fedadam', eta: 0.03 };
 */
export type StrategyConfigInput = z.input<typeof StrategyConfigSchema>;
/**
 * A parsed {@link FedAvgConfigSchema}.
 *
 * @example
 * const c: FedAvgConfig = { kind: 'fedavg', eta: 1 };
 */
export type FedAvgConfig = z.infer<typeof FedAvgConfigSchema>;
/**
 * A parsed {@link FedAdagradConfigSchema}.
 *
 * @example
 * const c = FedAdagradConfigSchema.parse({ kind: 'fedadagrad' });
 */
export type FedAdagradConfig = z.infer<typeof FedAdagradConfigSchema>;
/**
 * A parsed {@link FedAdamConfigSchema}.
 *
 * @example
 * const c = FedAdamConfigSchema.parse({ kind: 'fedadam' });
 */
export type FedAdamConfig = z.infer<typeof FedAdamConfigSchema>;
/**
 * A parsed {@link FedYogiConfigSchema}.
 *
 * @example
 * const c = FedYogiConfigSchema.parse({ kind: 'fedyogi' });
 */
export type FedYogiConfig = z.infer<typeof FedYogiConfigSchema>;

/** Parses with `schema`, throwing InvalidConfig naming the first bad field. */
export function parseConfig<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ProtocolError(
      'InvalidConfig',
      `${issue?.path.join('.') || 'strategy'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

/**
 * The server optimizer each of the cooperative's model kinds trains with unless its model config
 * says otherwise (the coordinator fills it in when a model of the kind is created without one;
 * the simulator's experiments use it too):
 * - demand and fraud: FedAvg, η = 1 (the members' mean update, as it is);
 * - recommendation: FedAdam, η = 0.03. Most of its weights are the item side (an embedding row and
 *   an output column per catalog-key bucket), and each shop's updates touch only the buckets it
 *   sells, so a plain mean shrinks each bucket's update by the share of shops not carrying it;
 *   FedAdam's per-coordinate step normalisation much less (a bucket one shop in ten sells moves
 *   ≈ 5.5× less than one all sell, against 10× under the mean; `defaults.test.ts`). Measured with `coopfl-sim run --stores
 *   20 --rounds 30 --models recommendation` (median-shop NDCG@10 of the global model): FedAvg
 *   0.452, FedAdam η = 0.01 0.466, η = 0.03 0.468, η = 0.1 0.455, FedYogi η = 0.01 0.467;
 *   local-only 0.461.
 *
 * @example
 * admin.models.create.mutate({ id, kind, config: { architecture, strategy: defaultStrategy(kind) } });
 */
export function defaultStrategy(kind: ModelKind): StrategyConfig {
  return kind === 'recommendation'
    ? FedAdamConfigSchema.parse({ kind: 'fedadam', eta: 0.03 })
    : FedAvgConfigSchema.parse({ kind: 'fedavg', eta: 1 });
}
