import { describe, expect, it } from 'vitest';
import { rdpEpsilon } from './rdp';
import { rdpSampledGaussian } from './rdp-gaussian';
import { rdpSkellam } from './rdp-skellam';

describe('RDP of the Skellam mechanism (Agarwal, Kairouz & Liu 2021)', () => {
  const base = { l2Sensitivity: 1000, l1Sensitivity: 1e6 };

  it('evaluates Theorem 3.5 on a worked example', () => {
    // V = 2μ = 1e6, Δ₂ = 1e3, Δ₁ = 1e6, α = 2:
    // α·Δ₂²/(2V) = 1; min(((3·1e6) + 6e6)/(4e12), 3e6/2e6) = 2.25e-6.
    expect(rdpSkellam({ ...base, mu: 5e5, samplingRate: 1, order: 2 })).toBeCloseTo(
      1 + 2.25e-6,
      14,
    );
  });

  it('tends to the Gaussian with the same variance from above', () => {
    for (const mu of [50, 5e4, 5e8]) {
      const l2 = Math.sqrt(2 * mu); // noise multiplier 1 in quantized units
      for (const order of [2, 5, 32]) {
        const sk = rdpSkellam({
          mu,
          l2Sensitivity: l2,
          l1Sensitivity: l2 * l2,
          samplingRate: 1,
          order,
        });
        const g = order / 2;
        expect(sk).toBeGreaterThanOrEqual(g);
        if (mu >= 5e8) expect(sk / g - 1).toBeLessThan(1e-7);
      }
    }
  });

  it('is amplified by subsampling (Zhu & Wang 2019, Thm. 6), as an upper bound of the exact Gaussian', () => {
    const mu = 5e10;
    const l2 = Math.sqrt(2 * mu) / 1.2; // Gaussian-like with noise multiplier 1.2
    for (const order of [2, 3, 8, 20]) {
      const full = rdpSkellam({
        mu,
        l2Sensitivity: l2,
        l1Sensitivity: l2 * l2,
        samplingRate: 1,
        order,
      });
      const sub = rdpSkellam({
        mu,
        l2Sensitivity: l2,
        l1Sensitivity: l2 * l2,
        samplingRate: 0.05,
        order,
      });
      const exactSgm = rdpSampledGaussian({ samplingRate: 0.05, noiseMultiplier: 1.2, order });
      expect(sub).toBeLessThan(full);
      expect(sub).toBeGreaterThanOrEqual(exactSgm * (1 - 1e-9));
      expect(sub).toBeLessThan(4 * exactSgm);
    }
  });

  it('covers integer orders only; accounting still finds an integer optimum', () => {
    expect(rdpSkellam({ ...base, mu: 5e5, samplingRate: 1, order: 2.5 })).toBe(Infinity);
    const r = rdpEpsilon({
      events: [{ mechanism: 'skellam', skellam: { ...base, mu: 5e5 }, samplingRate: 1, steps: 10 }],
      delta: 1e-5,
    });
    expect(Number.isInteger(r.order)).toBe(true);
    expect(r.epsilon).toBeGreaterThan(0);
    expect(() => rdpSkellam({ ...base, mu: 0, samplingRate: 1, order: 2 })).toThrow(/mu/);
  });
});
