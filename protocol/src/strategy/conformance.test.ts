import { beforeAll, describe, expect, it } from 'vitest';
import { randomUnit, seededRandom } from '../crypto/random';
import { cryptoReady } from '../crypto/sodium';
import { runRound } from '../secagg/channel';
import { generateCohort } from '../secagg/cohort';
import { quantizationBound } from '../secagg/quantize';
import type { AggregateResult } from '../secagg/server';
import { withCentralDp } from './central-dp';
import { clipUpdate } from './clip';
import type { StrategyConfig } from './config';
import { StrategyConfigSchema } from './config';
import { createOptimizer } from './create';
import { plaintextAggregate } from './testkit';
import type { Aggregate, ServerOptimizer } from './types';

/**
 * Conformance suite (CONVENTIONS rule 11): for every server optimizer, the plain strategy on the
 * plaintext sum, the same strategy wrapped in central DP with noise multiplier 0, and both fed by a
 * real secure-aggregation round (10 members, dimension 32, unit weights, updates clipped to L2
 * norm C = 1) must agree within what quantization explains.
 *
 * The bound. Secure aggregation decodes the sum and the weight each within b = quantizationBound
 * (…, 10) per coordinate. For Δ̄ = s/w and Δ̄' = s'/w' with |s − s'|, |w − w'| ≤ b:
 *   |Δ̄' − Δ̄| = |(s' − s)·w − s·(w' − w)| / (w·w') ≤ b·(1 + |Δ̄|) / (w − b) =: ε.
 * (The DP wrapper divides by the integer count, error ≤ b/w ≤ ε.) The optimizers map Δ̄ to the
 * step with a Lipschitz constant L (first step, fresh state):
 *   FedAvg: L = η.
 *   FedAdam, FedAdagrad: step = η(1 − β₁)·g(Δ̄), g(Δ) = Δ/(√(c + kΔ²) + τ) with c ≥ 0, k > 0, and
 *     g'(Δ) = (c/√(c + kΔ²) + τ)/(√(c + kΔ²) + τ)² ∈ (0, 1/τ], so L = η(1 − β₁)/τ.
 *   FedYogi: the same on each side of |Δ̄| = τ (for |Δ̄| < τ, v = τ² − (1 − β₂)Δ̄² ≥ β₂τ² and
 *     g' ≤ 1/(τ·√β₂·(1 + √β₂)) ≤ 1/τ for β₂ ≥ 0.5), plus the jump of sign(v − Δ̄²) at |Δ̄| = τ:
 *     J = η(1 − β₁)·|1/(1 + √β₂) − 1/(1 + √(2 − β₂))|.
 * Both results are then rounded to float32, adding at most one ulp (≤ 2⁻²³·|w|). So every pair
 * differs by at most L·ε + J + 2⁻²³·max|w| per coordinate (+1e-12 for double rounding).
 */

beforeAll(cryptoReady);

const N = 10;
const DIM = 32;
const C = 1;

function lipschitz(c: StrategyConfig): { L: number; J: number } {
  switch (c.kind) {
    case 'fedavg':
      return { L: c.eta, J: 0 };
    case 'fedadagrad':
      return { L: (c.eta * (1 - c.beta1)) / c.tau, J: 0 };
    case 'fedadam':
      return { L: (c.eta * (1 - c.beta1)) / c.tau, J: 0 };
    case 'fedyogi': {
      const a = c.eta * (1 - c.beta1);
      const sb = Math.sqrt(c.beta2);
      return { L: a / c.tau, J: a * Math.abs(1 / (1 + sb) - 1 / (1 + Math.sqrt(2 - c.beta2))) };
    }
  }
}

/** ε of the header: the largest error of Δ̄ that quantization explains. */
function epsilon(plain: Aggregate, bound: number): number {
  let maxMean = 0;
  for (const v of plain.sum) maxMean = Math.max(maxMean, Math.abs(v / plain.weight));
  return (bound * (1 + maxMean)) / (plain.weight - bound);
}

/** By how much |a − b| exceeds `allowed` + one float32 ulp, at worst (≤ 0 when they agree). */
function excess(a: Float32Array, b: Float32Array, allowed: number): number {
  let worst = -Infinity;
  for (let i = 0; i < a.length; i++) {
    const ulp = 2 ** -23 * Math.max(Math.abs(a[i]!), Math.abs(b[i]!));
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!) - (allowed + ulp + 1e-12));
  }
  return worst;
}

describe('strategies agree: plain, central DP with zero noise, secure aggregation', () => {
  let plain: Aggregate;
  let secagg: AggregateResult;
  let bound: number;
  let global: Float32Array;
  const eps = (): number => epsilon(plain, bound);

  beforeAll(() => {
    const rng = seededRandom(2021);
    const updates = Array.from({ length: N }, () => {
      const raw = Float32Array.from({ length: DIM }, () => (2 * randomUnit(rng) - 1) * 0.5);
      return clipUpdate(raw, C).clipped;
    });
    global = Float32Array.from({ length: DIM }, () => 2 * randomUnit(rng) - 1);
    plain = plaintextAggregate(updates);
    const { config, identities } = generateCohort({ clients: N, dim: DIM, clipRange: C });
    const report = runRound({
      config,
      identities,
      inputs: updates.map((vector) => ({ vector, weight: 1 })),
      random: (i) => seededRandom(100 + i),
    });
    expect(report.error).toBeUndefined();
    secagg = report.result!;
    expect(secagg.survivors).toHaveLength(N);
    bound = quantizationBound(config.quant, N);
  });

  const configs = (['fedavg', 'fedadagrad', 'fedadam', 'fedyogi'] as const).map((kind) =>
    StrategyConfigSchema.parse({ kind }),
  );

  it.each(configs)('$kind', (config) => {
    const make = (): ServerOptimizer => createOptimizer(config);
    const dp0 = (): ServerOptimizer =>
      withCentralDp(make(), { clipNorm: C, noiseMultiplier: 0, random: seededRandom(5) });
    const results = {
      plain: make().step(global, plain, undefined).weights,
      dpPlain: dp0().step(global, plain, undefined).weights,
      secagg: make().step(global, secagg, undefined).weights,
      dpSecagg: dp0().step(global, secagg, undefined).weights,
    };
    // Zero noise on the same aggregate: identical, bit for bit.
    expect(results.dpPlain).toEqual(results.plain);

    const { L, J } = lipschitz(config);
    const entries = Object.entries(results);
    for (const [a, wa] of entries) {
      for (const [b, wb] of entries) {
        expect(excess(wa, wb, L * eps() + J), `${a} vs ${b}`).toBeLessThanOrEqual(0);
      }
    }
    // The strategies did move the model (the comparison is not vacuous).
    expect(results.plain).not.toEqual(global);
  });

  it('the bound is tight enough to catch a wrong weight (dividing by survivors + 1)', () => {
    const fedavg = createOptimizer({ kind: 'fedavg' });
    const right = fedavg.step(global, plain, undefined).weights;
    const wrong = fedavg.step(global, { sum: secagg.sum, weight: secagg.weight + 1 }, undefined);
    expect(excess(right, wrong.weights, eps())).toBeGreaterThan(0);
  });
});
