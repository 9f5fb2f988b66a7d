import { describe, expect, it } from 'vitest';
import type { NoiseMultiplier } from '../brand';
import { analyticGaussianEpsilon } from './analytic-gaussian';
import type { GaussianEvent } from './events';
import { pldDelta, pldEpsilon } from './pld';
import { rdpEpsilon } from './rdp';

const gaussian = (noiseMultiplier: number, samplingRate: number, steps: number): GaussianEvent => ({
  mechanism: 'gaussian',
  noiseMultiplier: noiseMultiplier as NoiseMultiplier,
  samplingRate,
  steps,
});

describe('PLD accountant: acceptance values', () => {
  it('σ=1, q=0.01, T=1000, δ=1e-5 → 1.8282 within 1%, in well under 5 s', () => {
    const t0 = performance.now();
    const r = pldEpsilon({ events: [gaussian(1, 0.01, 1000)], delta: 1e-5 });
    const ms = performance.now() - t0;
    expect(Math.abs(r.epsilon / 1.8282 - 1)).toBeLessThanOrEqual(0.01);
    expect(r.epsilon).toBeGreaterThanOrEqual(1.8282 * 0.999); // pessimistic: not below the true value
    expect(ms).toBeLessThan(5000);
  });

  it('σ=0.8, q=1, T=1, δ=1e-5 → exact Gaussian 5.6796, within 0.5% and never below', () => {
    const exact = analyticGaussianEpsilon({ noiseMultiplier: 0.8, delta: 1e-5 });
    const r = pldEpsilon({ events: [gaussian(0.8, 1, 1)], delta: 1e-5 });
    expect(r.epsilon).toBeGreaterThanOrEqual(exact);
    expect(r.epsilon / exact - 1).toBeLessThanOrEqual(0.005);
  });
});

describe('PLD against the exact (analytic) Gaussian, q = 1', () => {
  it.each([
    { z: 0.5, t: 1, delta: 1e-5 },
    { z: 1, t: 1, delta: 1e-6 },
    { z: 2, t: 1, delta: 1e-5 },
    { z: 3, t: 1, delta: 1e-10 },
    { z: 5, t: 10, delta: 1e-5 },
    { z: 10, t: 100, delta: 1e-6 },
    { z: 4, t: 1000, delta: 1e-5 },
  ])('σ=$z T=$t δ=$delta: never below, within 0.5%', ({ z, t, delta }) => {
    const exact = analyticGaussianEpsilon({ noiseMultiplier: z, delta, steps: t });
    const got = pldEpsilon({ events: [gaussian(z, 1, t)], delta }).epsilon;
    expect(got).toBeGreaterThanOrEqual(exact);
    expect(got / exact - 1).toBeLessThanOrEqual(0.005);
  });

  it('δ(ε) is an upper bound on the exact δ and consistent with ε(δ)', () => {
    const ev = [gaussian(1, 1, 1)];
    const eps = pldEpsilon({ events: ev, delta: 1e-6 }).epsilon;
    expect(pldDelta({ events: ev, epsilon: eps, interval: 1e-3 }).delta).toBeLessThanOrEqual(
      1.05e-6,
    );
    const exact = analyticGaussianEpsilon({ noiseMultiplier: 1, delta: 1e-6 });
    expect(pldDelta({ events: ev, epsilon: exact }).delta).toBeGreaterThanOrEqual(
      1e-6 * (1 - 1e-9),
    );
  });
});

describe('PLD properties', () => {
  it('is tighter than RDP for many small-q steps', () => {
    for (const [z, q, t] of [
      [1.5, 0.1, 100],
      [1, 0.01, 300],
    ] as const) {
      const rdp = rdpEpsilon({ events: [gaussian(z, q, t)], delta: 1e-5 }).epsilon;
      const pld = pldEpsilon({ events: [gaussian(z, q, t)], delta: 1e-5 }).epsilon;
      expect(pld).toBeLessThan(rdp);
      expect(pld).toBeGreaterThan(0.7 * rdp); // 1.071 vs 1.451 for the second case
    }
  });

  it('a finer grid never gives a larger ε (pessimistic rounding is monotone)', () => {
    const ev = [gaussian(0.9, 0.05, 50)];
    const coarse = pldEpsilon({ events: ev, delta: 1e-5, interval: 2e-3 }).epsilon;
    const fine = pldEpsilon({ events: ev, delta: 1e-5, interval: 1e-3 }).epsilon;
    const finer = pldEpsilon({ events: ev, delta: 1e-5, interval: 2.5e-4 }).epsilon;
    expect(fine).toBeLessThanOrEqual(coarse + 1e-9);
    expect(finer).toBeLessThanOrEqual(fine + 1e-9);
  });

  it('composes heterogeneous events: more than either part, less than RDP', () => {
    const a = gaussian(1, 0.02, 200);
    const b = gaussian(2, 0.2, 50);
    const both = pldEpsilon({ events: [a, b], delta: 1e-5 }).epsilon;
    expect(both).toBeGreaterThan(pldEpsilon({ events: [a], delta: 1e-5 }).epsilon);
    expect(both).toBeGreaterThan(pldEpsilon({ events: [b], delta: 1e-5 }).epsilon);
    expect(both).toBeLessThan(rdpEpsilon({ events: [a, b], delta: 1e-5 }).epsilon);
  });

  it('splitting steps across equal events changes nothing', () => {
    const one = pldEpsilon({ events: [gaussian(1.1, 0.05, 100)], delta: 1e-5 });
    const split = pldEpsilon({
      events: [gaussian(1.1, 0.05, 60), gaussian(1.1, 0.05, 40)],
      delta: 1e-5,
    });
    expect(split.epsilon).toBe(one.epsilon);
  });

  it('validates arguments', () => {
    expect(() => pldEpsilon({ events: [], delta: 1e-5 })).toThrow(/events/);
    expect(() => pldEpsilon({ events: [gaussian(1, 1, 1)], delta: 2 })).toThrow(/delta/);
    expect(() => pldEpsilon({ events: [gaussian(1, 1, 1)], delta: 1e-5, interval: -1 })).toThrow(
      /interval/,
    );
  });
});
