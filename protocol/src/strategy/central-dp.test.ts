import { beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../crypto/random';
import { cryptoReady } from '../crypto/sodium';
import { normalSf } from '../dp/special';
import { chiSquareCdf, chiSquareSurvival } from '../dp/stats';
import { fedAdam } from './adaptive';
import { withCentralDp } from './central-dp';
import { clipUpdate } from './clip';
import { fedAvg } from './fedavg';
import { expectProtocolError } from './testkit';

beforeAll(cryptoReady);

describe('withCentralDp noise', () => {
  /**
   * N coordinates, all-zero global model and sum, n = 10 contributors, z = 1.3, C = 0.5. Then the
   * new weights are x_i = fround(ξ_i / n) with ξ_i i.i.d. N(0, (zC)²), i.e. N(0, s²) with
   * s = zC/n = 0.065, up to float32 rounding (relative ≤ 2⁻²⁴, see below).
   *
   * False-rejection budget ≤ 1e-6 for the pair of tests, by a union bound:
   * - mean: x̄ ~ N(0, s²/N) exactly, so P(|x̄| > k·s/√N) = 2·Φc(k); k = 5.1 gives 3.4e-7.
   * - spread: Σx_i²/s² ~ χ²_N exactly (the mean is known to be 0); we reject when the two-sided
   *   p-value 2·min(F, 1 − F) < 5e-7, which happens with probability 5e-7.
   * Total 8.4e-7 ≤ 1e-6. Rounding to float32 moves each x_i by a relative ≤ 2⁻²⁴, so Σx² by a
   * relative ≤ 2⁻²³ ≈ 1.2e-7: a shift of ~0.02 in a statistic whose standard deviation is
   * √(2N) ≈ 632 — it does not affect either decision. The seed is fixed, so a pass is
   * reproducible; the budget says how surprising a failure would be.
   */
  const N = 200_000;
  const n = 10;
  const z = 1.3;
  const C = 0.5;
  const s = (z * C) / n;
  const K = 5.1;
  const P_SPREAD = 5e-7;
  let x: Float32Array;
  beforeAll(() => {
    const opt = withCentralDp(fedAvg(), {
      clipNorm: C,
      noiseMultiplier: z,
      random: seededRandom(42),
    });
    x = opt.step(new Float32Array(N), { sum: new Float64Array(N), weight: n }, undefined).weights;
  });
  const spreadP = (sigma: number): number => {
    let ss = 0;
    for (const v of x) ss += v * v;
    const stat = ss / (sigma * sigma);
    return 2 * Math.min(chiSquareCdf(stat, N), chiSquareSurvival(stat, N));
  };

  it('the stated budget adds up to ≤ 1e-6', () => {
    expect(2 * normalSf(K) + P_SPREAD).toBeLessThanOrEqual(1e-6);
  });

  it('has mean ≈ 0: |x̄| ≤ 5.1·s/√N', () => {
    let sum = 0;
    for (const v of x) sum += v;
    expect(Math.abs(sum / N)).toBeLessThanOrEqual((K * s) / Math.sqrt(N));
  });

  it('has standard deviation noiseMultiplier·clipNorm/weight: two-sided χ²_N test at 5e-7', () => {
    expect(spreadP(s)).toBeGreaterThanOrEqual(P_SPREAD);
  });

  it('the spread test can fail: σ off by 2%, or noise not divided by the weight', () => {
    expect(spreadP(1.02 * s)).toBeLessThan(P_SPREAD);
    expect(spreadP(0.98 * s)).toBeLessThan(P_SPREAD);
    expect(spreadP(z * C)).toBeLessThan(P_SPREAD);
  });
});

describe('withCentralDp', () => {
  const g = Float32Array.of(0.5, -0.5, 1, 0);
  const agg = { sum: Float64Array.of(1, -2, 0.5, 3), weight: 4 };

  it('draws its noise only from the injected RandomSource', () => {
    const run = (seed: number) =>
      withCentralDp(fedAvg(), { clipNorm: 1, noiseMultiplier: 1, random: seededRandom(seed) }).step(
        g,
        agg,
        undefined,
      ).weights;
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });

  it('with noise multiplier 0 is exactly the wrapped optimizer', () => {
    for (const inner of [fedAvg(), fedAdam()]) {
      const dp = withCentralDp(inner, { clipNorm: 1, noiseMultiplier: 0, random: seededRandom(1) });
      expect(dp.kind).toBe(inner.kind);
      expect(dp.step(g, agg, undefined)).toEqual(inner.step(g, agg, undefined));
    }
  });

  it('does not modify the aggregate it is given', () => {
    const sum = agg.sum.slice();
    withCentralDp(fedAvg(), { clipNorm: 1, noiseMultiplier: 2, random: seededRandom(3) }).step(
      g,
      agg,
      undefined,
    );
    expect(agg.sum).toEqual(sum);
  });

  it('divides by a fixed denominator when one is given', () => {
    const opts = { clipNorm: 1, noiseMultiplier: 0, random: seededRandom(1) };
    const { weights } = withCentralDp(fedAvg(), { ...opts, fixedDenominator: 8 }).step(
      g,
      agg,
      undefined,
    );
    expect([...weights]).toEqual([0.625, -0.75, 1.0625, 0.375]);
  });

  it('requires unit weights: the weight must be the number of contributors', () => {
    const dp = withCentralDp(fedAvg(), {
      clipNorm: 1,
      noiseMultiplier: 1,
      random: seededRandom(1),
    });
    expectProtocolError(
      () => dp.step(g, { sum: agg.sum, weight: 3.5 }, undefined),
      'InvalidInput',
      /unit weights/,
    );
    expectProtocolError(
      () => dp.step(g, { sum: agg.sum, weight: 0.3 }, undefined),
      'InvalidInput',
      /unit weights/,
    );
    // Weighted by sample counts: 4 survivors, total weight 900.
    expectProtocolError(
      () => dp.step(g, { sum: agg.sum, weight: 900, survivors: [0, 1, 2, 3] }, undefined),
      'InvalidInput',
      /4 survivors/,
    );
    // Secure aggregation's weight is exact up to quantization: accepted.
    expect(() =>
      dp.step(g, { sum: agg.sum, weight: 4 + 1e-7, survivors: [0, 1, 2, 3] }, undefined),
    ).not.toThrow();
  });

  it('validates its options', () => {
    const random = seededRandom(1);
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ clipNorm: 0, noiseMultiplier: 1, random }, /clipNorm/],
      [{ clipNorm: NaN, noiseMultiplier: 1, random }, /clipNorm/],
      [{ clipNorm: 1, noiseMultiplier: -1, random }, /noiseMultiplier/],
      [{ clipNorm: 1, noiseMultiplier: Infinity, random }, /noiseMultiplier/],
      [{ clipNorm: 1, noiseMultiplier: 1 }, /random/],
      [{ clipNorm: 1, noiseMultiplier: 1, random, fixedDenominator: 0 }, /fixedDenominator/],
    ];
    for (const [opts, message] of bad) {
      expectProtocolError(
        () => withCentralDp(fedAvg(), opts as unknown as Parameters<typeof withCentralDp>[1]),
        'InvalidArgument',
        message,
      );
    }
  });
});

describe('clipUpdate (node side)', () => {
  it('clips to the L2 ball without touching the input, and reports the norm', () => {
    const delta = Float32Array.of(3, 4);
    const { clipped, norm, scale } = clipUpdate(delta, 1);
    expect(norm).toBe(5);
    expect(scale).toBeLessThan(0.2 + 1e-9);
    expect(Math.hypot(...clipped)).toBeLessThanOrEqual(1);
    expect(clipped[0]).toBeCloseTo(0.6, 6);
    expect([...delta]).toEqual([3, 4]);
    expect(clipUpdate(Float32Array.of(0.3, 0.4), 1).clipped).toEqual(Float32Array.of(0.3, 0.4));
  });

  it('rejects NaN updates and bad clip norms', () => {
    expectProtocolError(() => clipUpdate(Float32Array.of(NaN), 1), 'InvalidInput');
    expectProtocolError(() => clipUpdate(Float32Array.of(1), 0), 'InvalidArgument', /clipNorm/);
  });
});
