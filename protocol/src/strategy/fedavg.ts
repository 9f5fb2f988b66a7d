import type { z } from 'zod';
import { checkState, checkWeights, meanUpdate } from './check';
import { FedAvgConfigSchema, parseConfig } from './config';
import type { FedAvgState, ServerOptimizer } from './types';

/**
 * FedAvg's options: the server learning rate η (default 1, plain averaging).
 *
 * @example
 * const options: FedAvgOptions = { eta: 0.5 }; // damped averaging
 */
export type FedAvgOptions = Omit<z.input<typeof FedAvgConfigSchema>, 'kind'>;

/**
 * FedAvg as a server optimizer (McMahan et al. 2017, "Communication-Efficient Learning of Deep
 * Networks from Decentralized Data"; Reddi et al. 2021, Alg. 1 with server SGD): w ← w + η·Δ̄ with
 * Δ̄ = Σ w_u·Δ_u / Σ w_u. With η = 1 (the default) the new model is exactly the weighted average of
 * the members' local models, which is what most rounds want and what the other strategies and the
 * privacy wrappers are tested against. Stateless apart from a round counter.
 *
 * @example
 * const { weights } = fedAvg().step(global, { sum, weight }, undefined);
 * // weights[i] = global[i] + sum[i] / weight (rounded to float32)
 */
export function fedAvg(options: FedAvgOptions = {}): ServerOptimizer {
  const { eta } = parseConfig(FedAvgConfigSchema, { ...options, kind: 'fedavg' });
  return {
    kind: 'fedavg',
    step(global, aggregate, state) {
      const mean = meanUpdate(global, aggregate);
      const d = global.length;
      const prev = state === undefined ? undefined : checkState<FedAvgState>(state, 'fedavg', d);
      const out = new Float32Array(d);
      for (let i = 0; i < d; i++) out[i] = global[i]! + eta * mean[i]!;
      const next: FedAvgState = { kind: 'fedavg', round: (prev?.round ?? 0) + 1, dim: d };
      return { weights: checkWeights(out), state: next };
    },
  };
}
