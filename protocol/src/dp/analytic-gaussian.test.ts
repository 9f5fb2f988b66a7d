import { describe, expect, it } from 'vitest';
import { analyticGaussianDelta, analyticGaussianEpsilon } from './analytic-gaussian';
import vectors from './vectors/analytic_gaussian.json';

describe('analytic Gaussian (Balle & Wang 2018; vectors: mpmath root-finding)', () => {
  it.each(vectors.cases)(
    'σ=$noise_multiplier T=$steps δ=$delta',
    ({ noise_multiplier, steps, delta, epsilon }) => {
      const got = analyticGaussianEpsilon({ noiseMultiplier: noise_multiplier, delta, steps });
      expect(Math.abs(got / epsilon - 1)).toBeLessThan(1e-9);
      expect(got).toBeGreaterThanOrEqual(epsilon * (1 - 1e-12));
      expect(
        analyticGaussianDelta({ noiseMultiplier: noise_multiplier, epsilon: got, steps }),
      ).toBeLessThanOrEqual(delta);
    },
  );

  it('gives the acceptance value 5.6796 for σ = 0.8, δ = 1e-5', () => {
    expect(analyticGaussianEpsilon({ noiseMultiplier: 0.8, delta: 1e-5 })).toBeCloseTo(5.6796, 4);
  });

  it('is 0 when δ(0) is already small enough', () => {
    expect(analyticGaussianEpsilon({ noiseMultiplier: 100, delta: 0.1 })).toBe(0);
  });
});
