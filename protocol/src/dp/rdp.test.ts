import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NoiseMultiplier } from '../brand';
import type { AccountingEvent, GaussianEvent } from './events';
import { DEFAULT_ORDERS, composeRdp, rdpCurve, rdpEpsilon, rdpToEpsilon } from './rdp';
import { rdpSampledGaussian } from './rdp-gaussian';
import vectors from './vectors/rdp_sampled_gaussian.json';

const gaussian = (noiseMultiplier: number, samplingRate: number, steps: number): GaussianEvent => ({
  mechanism: 'gaussian',
  noiseMultiplier: noiseMultiplier as NoiseMultiplier,
  samplingRate,
  steps,
});

const eps = (z: number, q: number, t: number, delta: number) =>
  rdpEpsilon({ events: [gaussian(z, q, t)], delta }).epsilon;

describe('RDP accountant: acceptance values (relative error ≤ 1%)', () => {
  it.each([
    { z: 1.0, q: 0.01, t: 1000, delta: 1e-5, want: 2.1014 },
    { z: 1.5, q: 0.1, t: 100, delta: 1e-5, want: 3.9235 },
    { z: 10.0, q: 1.0, t: 100, delta: 1e-6, want: 5.2215 },
  ])('σ=$z q=$q T=$t δ=$delta → $want', ({ z, q, t, delta, want }) => {
    const got = eps(z, q, t, delta);
    expect(Math.abs(got / want - 1)).toBeLessThanOrEqual(0.01);
    // In fact it agrees to the printed digits.
    expect(Math.abs(got - want)).toBeLessThan(2e-4);
  });

  it('reports the optimal order', () => {
    expect(rdpEpsilon({ events: [gaussian(1, 0.01, 1000)], delta: 1e-5 }).order).toBe(7.8);
  });
});

describe('RDP of the sampled Gaussian (vectors: numerical integration with mpmath)', () => {
  it.each(vectors.cases)(
    'q=$sampling_rate σ=$noise_multiplier α=$order',
    ({ sampling_rate, noise_multiplier, order, rdp }) => {
      const got = rdpSampledGaussian({
        samplingRate: sampling_rate,
        noiseMultiplier: noise_multiplier,
        order,
      });
      expect(Math.abs(got / rdp - 1)).toBeLessThan(3e-8);
    },
  );

  it('reduces to α/(2σ²) at q = 1 and to 0 at q = 0', () => {
    for (const order of [1.5, 2, 7.3, 64]) {
      expect(rdpSampledGaussian({ samplingRate: 1, noiseMultiplier: 2, order })).toBe(order / 8);
      expect(rdpSampledGaussian({ samplingRate: 0, noiseMultiplier: 2, order })).toBe(0);
    }
  });

  it('is continuous between integer and fractional orders', () => {
    const at = (order: number) =>
      rdpSampledGaussian({ samplingRate: 0.05, noiseMultiplier: 0.9, order });
    expect(Math.abs(at(3.000001) / at(3) - 1)).toBeLessThan(1e-5);
    expect(Math.abs(at(2.999999) / at(3) - 1)).toBeLessThan(1e-5);
  });
});

describe('conversion to (ε, δ) (Canonne–Kamath–Steinke 2020, Prop. 12)', () => {
  it('applies ε = rdp + log((α−1)/α) − (log δ + log α)/(α−1) at the best order', () => {
    const orders = [2, 4];
    const r = rdpToEpsilon({ rdp: [0.5, 1.5], delta: 1e-3, orders });
    const e2 = 0.5 + Math.log(1 / 2) - (Math.log(1e-3) + Math.log(2)) / 1;
    const e4 = 1.5 + Math.log(3 / 4) - (Math.log(1e-3) + Math.log(4)) / 3;
    expect(r.epsilon).toBeCloseTo(Math.min(e2, e4), 14);
    expect(r.order).toBe(e2 < e4 ? 2 : 4);
  });

  it('is never worse than Mironov 2017 Prop. 3 (rdp + log(1/δ)/(α−1))', () => {
    const rdp = composeRdp([gaussian(1.2, 0.02, 500)]);
    const mironov = Math.min(...DEFAULT_ORDERS.map((a, k) => rdp[k]! + Math.log(1e5) / (a - 1)));
    expect(rdpToEpsilon({ rdp, delta: 1e-5 }).epsilon).toBeLessThan(mironov);
  });

  it('uses the default grid 1.1..10.9, 11..63, 128..1024', () => {
    expect(DEFAULT_ORDERS.length).toBe(99 + 53 + 4);
    expect(DEFAULT_ORDERS[0]).toBe(1.1);
    expect(DEFAULT_ORDERS[98]).toBe(10.9);
    expect(DEFAULT_ORDERS.slice(-4)).toEqual([128, 256, 512, 1024]);
    expect(() => rdpToEpsilon({ rdp: [1], delta: 1e-5 })).toThrow(/entries/);
    expect(() => rdpToEpsilon({ rdp: [1], delta: 0, orders: [2] })).toThrow(/delta/);
  });
});

describe('RDP properties (fast-check)', () => {
  const z = fc.double({ min: 0.5, max: 20, noNaN: true });
  const q = fc.double({ min: 1e-4, max: 1, noNaN: true });
  const t = fc.integer({ min: 1, max: 10_000 });
  const tol = 1e-9;

  it('ε decreases in σ', () => {
    fc.assert(
      fc.property(z, z, q, t, (a, b, qq, tt) => {
        const [lo, hi] = a < b ? [a, b] : [b, a];
        expect(eps(hi, qq, tt, 1e-5)).toBeLessThanOrEqual(eps(lo, qq, tt, 1e-5) + tol);
      }),
      { numRuns: 25, seed: 1 },
    );
  });

  it('ε increases in q', () => {
    fc.assert(
      fc.property(z, q, q, t, (zz, a, b, tt) => {
        const [lo, hi] = a < b ? [a, b] : [b, a];
        expect(eps(zz, lo, tt, 1e-5)).toBeLessThanOrEqual(eps(zz, hi, tt, 1e-5) + tol);
      }),
      { numRuns: 25, seed: 2 },
    );
  });

  it('ε increases in T', () => {
    fc.assert(
      fc.property(z, q, t, t, (zz, qq, a, b) => {
        const [lo, hi] = a < b ? [a, b] : [b, a];
        expect(eps(zz, qq, lo, 1e-5)).toBeLessThanOrEqual(eps(zz, qq, hi, 1e-5) + tol);
      }),
      { numRuns: 25, seed: 3 },
    );
  });

  it('T compositions of one event equal one event with T steps', () => {
    fc.assert(
      fc.property(z, q, fc.integer({ min: 1, max: 40 }), (zz, qq, tt) => {
        const one = composeRdp([gaussian(zz, qq, tt)]);
        const many = composeRdp(Array.from({ length: tt }, () => gaussian(zz, qq, 1)));
        for (let k = 0; k < one.length; k++) {
          expect(Math.abs(many[k]! - one[k]!)).toBeLessThanOrEqual(1e-12 * one[k]!);
        }
      }),
      { numRuns: 20, seed: 4 },
    );
  });

  it('heterogeneous composition adds curves', () => {
    const events: AccountingEvent[] = [gaussian(1, 0.01, 300), gaussian(2, 0.1, 50)];
    const total = composeRdp(events);
    const a = rdpCurve(events[0]!);
    const b = rdpCurve(events[1]!);
    for (let k = 0; k < total.length; k++) {
      expect(total[k]).toBeCloseTo(300 * a[k]! + 50 * b[k]!, 12);
    }
  });
});
