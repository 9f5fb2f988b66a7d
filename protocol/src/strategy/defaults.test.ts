import { describe, expect, it } from 'vitest';
import { MODEL_KINDS } from '../models/architecture';
import { StrategyConfigSchema, defaultStrategy } from './config';
import { createOptimizer } from './create';
import { plaintextAggregate } from './testkit';
import type { OptimizerState } from './types';

/**
 * Ten members; coordinate 0 is an item every member sells (each moves it by +0.01), coordinate 1
 * an item only one member sells (it moves it by +0.01, the others by 0). Returns how far each
 * coordinate moved after `rounds` rounds of the same updates.
 */
function moved(kind: 'demand' | 'recommendation', rounds: number): [number, number] {
  const opt = createOptimizer(defaultStrategy(kind));
  const updates = Array.from({ length: 10 }, (_, i) => [0.01, i === 0 ? 0.01 : 0]);
  let w: Float32Array = new Float32Array(2);
  let state: OptimizerState | undefined;
  for (let r = 0; r < rounds; r++) {
    const step = opt.step(w, plaintextAggregate(updates), state);
    w = step.weights;
    state = step.state;
  }
  return [w[0]!, w[1]!];
}

describe('defaultStrategy', () => {
  it('is a complete, valid strategy config for every model kind', () => {
    for (const kind of MODEL_KINDS) {
      const s = defaultStrategy(kind);
      expect(StrategyConfigSchema.parse(s)).toEqual(s);
    }
  });

  it('recommendation: an item one shop in ten sells is not held back tenfold, as FedAvg holds it', () => {
    const [commonAvg, rareAvg] = moved('demand', 10);
    expect(commonAvg / rareAvg).toBeCloseTo(10, 3);
    const [common, rare] = moved('recommendation', 10);
    expect(common).toBeGreaterThan(0);
    expect(rare).toBeGreaterThan(0);
    // FedAdam's per-coordinate normalisation (τ = 1e-3 bounds it for tiny updates): ≈ 5.5×.
    expect(common / rare).toBeLessThan(0.6 * (commonAvg / rareAvg));
  });
});
