import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cryptoReady } from '../crypto/sodium';
import { seededRandom } from '../crypto/random';
import {
  decodeWeightedSum,
  encodeWeighted,
  quantizationBound,
  quantizationScale,
} from './quantize';

beforeAll(cryptoReady);

describe('fixed-point quantization', () => {
  it('quantize ∘ dequantize stays within one step', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 1, maxLength: 50 }),
        fc.double({ min: 0, max: 5, noNaN: true }),
        fc.integer({ min: 1, max: 1000 }),
        fc.nat(),
        (x, w, n, seed) => {
          const p = { clients: n, clipRange: 3, maxWeight: 5 };
          const q = encodeWeighted(x, w, p, seededRandom(seed));
          const { sum, weight } = decodeWeightedSum(q, p);
          const step = 1 / quantizationScale(p);
          return Math.abs(weight - w) < step && x.every((v, i) => Math.abs(sum[i]! - w * v) < step);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('stochastic rounding is unbiased', () => {
    // A value at 0.3 of a step: the mean of 20,000 roundings is 0.3 steps with standard error
    // sqrt(0.21/20000) ≈ 0.0032 steps; 0.03 is a 9σ bound (false-rejection probability < 1e-18).
    const p = { clients: 1, clipRange: 1, maxWeight: 1 };
    const step = 1 / quantizationScale(p);
    const v = 0.3 * step;
    const q = encodeWeighted(new Float64Array(20000).fill(v), 1, p, seededRandom(9));
    let mean = 0;
    for (let i = 0; i < 20000; i++) mean += q[i]! / 20000;
    expect(Math.abs(mean - 0.3)).toBeLessThan(0.03);
  });

  it('the sum of n extreme inputs cannot wrap the modulus', () => {
    for (const n of [1, 2, 10, 1000]) {
      for (const sign of [1, -1]) {
        const p = { clients: n, clipRange: 2, maxWeight: 3 };
        const acc = new Uint32Array(3);
        for (let i = 0; i < n; i++) {
          const q = encodeWeighted([2 * sign, -2 * sign], 3, p, seededRandom(i));
          for (let j = 0; j < 3; j++) acc[j] = acc[j]! + q[j]!;
        }
        const { sum, weight } = decodeWeightedSum(acc, p);
        const bound = quantizationBound(p, n);
        expect(Math.abs(sum[0]! - 6 * sign * n)).toBeLessThanOrEqual(bound);
        expect(Math.abs(sum[1]! + 6 * sign * n)).toBeLessThanOrEqual(bound);
        expect(Math.abs(weight - 3 * n)).toBeLessThanOrEqual(bound);
      }
    }
  });

  it('names NaN, Infinity, out-of-range values and bad weights', () => {
    const p = { clients: 2, clipRange: 1, maxWeight: 1 };
    expect(() => encodeWeighted([0, NaN], 1, p, seededRandom(1))).toThrow(
      /InvalidInput: input\[1\] is NaN/,
    );
    expect(() => encodeWeighted([Infinity], 1, p, seededRandom(1))).toThrow(
      /input\[0\] is Infinity/,
    );
    expect(() => encodeWeighted([1.5], 1, p, seededRandom(1))).toThrow(/input\[0\] is outside ±1/);
    expect(() => encodeWeighted([0], 2, p, seededRandom(1))).toThrow(/weight must be in \[0, 1\]/);
  });

  it('refuses parameters with no room for a scale', () => {
    expect(() =>
      quantizationScale({ clients: 10, clipRange: 1, maxWeight: 1, noiseHeadroom: 2 ** 31 }),
    ).toThrow(/InvalidConfig: no fixed-point scale fits/);
  });
});
