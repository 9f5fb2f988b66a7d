import { z } from 'zod';

/**
 * The server side of one federated round, after secure aggregation: the coordinator never sees a
 * member's update Δ_u = w_local − w_global, only the weighted sum Σ_u w_u·Δ_u and the total weight
 * Σ_u w_u. A {@link ServerOptimizer} turns that aggregate into the next global model (Reddi et al.
 * 2021, "Adaptive Federated Optimization", ICLR, Algorithm 2, lines 10–15).
 */

/**
 * The server optimizers CoopFL offers. Schemas are the source of truth: the kind is stored with
 * every optimizer state so that a FedAdam state is never fed to FedYogi.
 *
 * @example
 * OptimizerKindSchema.parse('fedadam'); // 'fedadam'
 */
export const OptimizerKindSchema = z.enum(['fedavg', 'fedadagrad', 'fedadam', 'fedyogi']);
export type OptimizerKind = z.infer<typeof OptimizerKindSchema>;

/**
 * The kinds that keep first and second moments (Reddi et al. 2021, Alg. 2).
 *
 * @example
 * const adaptive: AdaptiveKind[] = ['fedadagrad', 'fedadam', 'fedyogi'];
 */
export type AdaptiveKind = Exclude<OptimizerKind, 'fedavg'>;

/**
 * What the server receives from secure aggregation: `sum` = Σ_u w_u·Δ_u over the surviving members
 * and `weight` = Σ_u w_u. A secagg `AggregateResult` is one (it has more fields, ignored here).
 *
 * @example
 * const aggregate: Aggregate = { sum: Float64Array.of(0.2, -0.1), weight: 2 };
 */
export interface Aggregate {
  readonly sum: Float64Array;
  readonly weight: number;
  /** Who is in the sum, when known (secure aggregation reports it); `withCentralDp` checks it. */
  readonly survivors?: readonly unknown[];
}

/**
 * FedAvg keeps no moments; the state only counts rounds and pins the model's dimension, so that a
 * state kept across a model change is caught.
 *
 * @example
 * const state: FedAvgState = { kind: 'fedavg', round: 3, dim: 1024 };
 */
export interface FedAvgState {
  readonly kind: 'fedavg';
  /** Server steps taken so far. */
  readonly round: number;
  /** Length of the flat parameter vector. */
  readonly dim: number;
}

/**
 * The moments of an adaptive server optimizer, in float64 (they are sums of squares of small
 * updates; float32 would lose the small ones).
 *
 * @example
 * const { state } = fedYogi().step(global, aggregate, undefined);
 * if (state.kind !== 'fedavg') console.log(state.round, state.v.length);
 */
export interface AdaptiveState {
  readonly kind: AdaptiveKind;
  /** Server steps taken so far (t + 1 after step t of Alg. 2). */
  readonly round: number;
  /** Length of the flat parameter vector (= m.length = v.length). */
  readonly dim: number;
  /** First moment m_t (Alg. 2, line 11). */
  readonly m: Float64Array;
  /** Second moment v_t (Alg. 2, lines 12–14). */
  readonly v: Float64Array;
}

/**
 * A server optimizer's state between rounds. It is a plain value: {@link encodeOptimizerState}
 * turns it into bytes that the coordinator stores (bytea) next to the model version, so a restart
 * resumes with the same moments.
 *
 * @example
 * const { state } = fedAdam().step(global, aggregate, undefined);
 * state.kind; // 'fedadam'
 */
export type OptimizerState = FedAvgState | AdaptiveState;

/**
 * The new global weights and the optimizer state to keep for the next round; the coordinator
 * stores both (the state via {@link encodeOptimizerState}).
 *
 * @example
 * const { weights, state }: StepResult = optimizer.step(global, aggregate, previous);
 */
export interface StepResult {
  readonly weights: Float32Array;
  readonly state: OptimizerState;
}

/**
 * A server optimizer: a pure function of (global weights, aggregate, previous state). It never
 * modifies its inputs. Pass `undefined` as the state in the first round. Privacy mechanisms wrap it
 * ({@link withCentralDp}) rather than living inside it (CONVENTIONS rule 3).
 *
 * Errors (all {@link ProtocolError}): `WrongLength` when the aggregate, the weights or the state
 * disagree on the dimension; `InvalidInput` for NaN/Infinity (naming the index) or a total weight
 * that is not positive; `InvalidArgument` for a state of another optimizer kind.
 *
 * @example
 * const opt = fedAvg();
 * let state: OptimizerState | undefined;
 * ({ weights: global, state } = opt.step(global, { sum, weight }, state));
 */
export interface ServerOptimizer {
  readonly kind: OptimizerKind;
  step(global: Float32Array, aggregate: Aggregate, state: OptimizerState | undefined): StepResult;
}
