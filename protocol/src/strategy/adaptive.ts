import type { z } from 'zod';
import { checkState, checkWeights, meanUpdate } from './check';
import {
  FedAdagradConfigSchema,
  FedAdamConfigSchema,
  FedYogiConfigSchema,
  parseConfig,
} from './config';
import type { AdaptiveKind, AdaptiveState, ServerOptimizer } from './types';

/**
 * The adaptive server optimizers of Reddi et al. 2021, "Adaptive Federated Optimization" (ICLR),
 * Algorithm 2. With Δ_t the (weighted) mean update of round t, per coordinate:
 *
 *   m_t = β₁·m_{t−1} + (1 − β₁)·Δ_t                               (line 11)
 *   v_t = v_{t−1} + Δ_t²                                 FedAdagrad (line 12)
 *   v_t = v_{t−1} − (1 − β₂)·Δ_t²·sign(v_{t−1} − Δ_t²)   FedYogi    (line 13)
 *   v_t = β₂·v_{t−1} + (1 − β₂)·Δ_t²                     FedAdam    (line 14)
 *   x_{t+1} = x_t + η·m_t / (√v_t + τ)                              (line 15)
 *
 * with m₋₁ = 0 and v₋₁ = τ² (line 1 asks v₋₁ ≥ τ²). No bias correction, as in the paper.
 * Moments are kept in float64; the new weights are rounded to float32 (the models' precision).
 */

interface AdaptiveParams {
  eta: number;
  beta1: number;
  /** Unused by FedAdagrad. */
  beta2: number;
  tau: number;
}

function adaptive(kind: AdaptiveKind, p: AdaptiveParams): ServerOptimizer {
  const { eta, beta1, beta2, tau } = p;
  return {
    kind,
    step(global, aggregate, state) {
      const delta = meanUpdate(global, aggregate);
      const d = global.length;
      const prev = state === undefined ? undefined : checkState<AdaptiveState>(state, kind, d);
      const m = new Float64Array(d);
      const v = new Float64Array(d);
      const out = new Float32Array(d);
      const tau2 = tau * tau;
      for (let i = 0; i < d; i++) {
        const g = delta[i]!;
        const g2 = g * g;
        const mPrev = prev ? prev.m[i]! : 0;
        const vPrev = prev ? prev.v[i]! : tau2;
        const mi = beta1 * mPrev + (1 - beta1) * g;
        let vi: number;
        switch (kind) {
          case 'fedadagrad':
            vi = vPrev + g2;
            break;
          case 'fedyogi':
            vi = vPrev - (1 - beta2) * g2 * Math.sign(vPrev - g2);
            break;
          case 'fedadam':
            vi = beta2 * vPrev + (1 - beta2) * g2;
            break;
        }
        m[i] = mi;
        v[i] = vi;
        out[i] = global[i]! + (eta * mi) / (Math.sqrt(vi) + tau);
      }
      const next: AdaptiveState = { kind, round: (prev?.round ?? 0) + 1, dim: d, m, v };
      return { weights: checkWeights(out), state: next };
    },
  };
}

/**
 * FedAdagrad's options (defaults: η = 0.1, β₁ = 0, τ = 10⁻³); see `FedAdagradConfigSchema`.
 *
 * @example
 * const options: FedAdagradOptions = { eta: 0.05 };
 */
export type FedAdagradOptions = Omit<z.input<typeof FedAdagradConfigSchema>, 'kind'>;
/**
 * FedAdam's options (defaults: η = 10⁻², β₁ = 0.9, β₂ = 0.99, τ = 10⁻³); see `FedAdamConfigSchema`.
 *
 * @example
 * const options: FedAdamOptions = { eta: 0.03, tau: 1e-2 };
 */
export type FedAdamOptions = Omit<z.input<typeof FedAdamConfigSchema>, 'kind'>;
/**
 * FedYogi's options (defaults: η = 10⁻², β₁ = 0.9, β₂ = 0.99, τ = 10⁻³); see `FedYogiConfigSchema`.
 *
 * @example
 * const options: FedYogiOptions = { eta: 0.01 };
 */
export type FedYogiOptions = Omit<z.input<typeof FedYogiConfigSchema>, 'kind'>;

/**
 * FedAdagrad (Reddi et al. 2021, Alg. 2, line 12): per-coordinate steps that shrink as the squared
 * updates accumulate — rarely-updated coordinates (e.g. embeddings of rare products) keep larger
 * steps. Throws InvalidConfig for out-of-range parameters.
 *
 * @example
 * const opt = fedAdagrad({ eta: 0.1 });
 * const { weights, state } = opt.step(global, aggregate, undefined);
 */
export function fedAdagrad(options: FedAdagradOptions = {}): ServerOptimizer {
  const c = parseConfig(FedAdagradConfigSchema, { ...options, kind: 'fedadagrad' });
  return adaptive('fedadagrad', { ...c, beta2: 0 });
}

/**
 * FedAdam (Reddi et al. 2021, Alg. 2, line 14): Adam on the server, on the mean update as a
 * pseudo-gradient. Adapts the step per coordinate when members' updates have very different
 * scales across layers; needs η re-tuned (the default 10⁻² is a starting point).
 *
 * @example
 * const opt = fedAdam({ eta: 0.01 });
 * let state: OptimizerState | undefined;
 * ({ weights: global, state } = opt.step(global, aggregate, state));
 */
export function fedAdam(options: FedAdamOptions = {}): ServerOptimizer {
  return adaptive('fedadam', parseConfig(FedAdamConfigSchema, { ...options, kind: 'fedadam' }));
}

/**
 * FedYogi (Reddi et al. 2021, Alg. 2, line 13, after Zaheer et al. 2018, "Adaptive Methods for
 * Nonconvex Optimization"): like FedAdam, but the second moment moves towards Δ̄² by ±(1 − β₂)·Δ̄²
 * only. It does not decay geometrically when updates become small, so the effective learning rate
 * cannot jump up after a few quiet (or heavily noised) rounds.
 *
 * @example
 * const opt = fedYogi(); // η = 10⁻², β₁ = 0.9, β₂ = 0.99, τ = 10⁻³
 * const { weights, state } = opt.step(global, aggregate, previousState);
 */
export function fedYogi(options: FedYogiOptions = {}): ServerOptimizer {
  return adaptive('fedyogi', parseConfig(FedYogiConfigSchema, { ...options, kind: 'fedyogi' }));
}
