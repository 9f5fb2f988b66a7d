import { describe, expect, it } from 'vitest';
import { seededRandom } from '../crypto/random';
import { cryptoReady } from '../crypto/sodium';
import { isProtocolError } from '../errors';
import { addGaussianNoise, gaussianVector, sampleGaussian } from './gaussian';
import { normalCdf } from './special';
import { chiSquareCdf, chiSquareGoodnessOfFit, chiSquareSurvival } from './stats';

await cryptoReady();

/**
 * Statistical tests with a stated false-rejection probability (each ≤ 1e-6 if the sampler is
 * exact). Seeds are fixed, so a pass is reproducible; the bound says how surprising a failure is.
 */
describe('gaussianVector', () => {
  const n = 200_000;
  const sigma = 2.5;
  const x = gaussianVector(seededRandom(11), { length: n, stddev: sigma });

  it('has mean 0: |x̄| ≤ 5σ/√n', () => {
    // x̄ ~ N(0, σ²/n) exactly, so P(|x̄| > 5σ/√n) = 2Φ(−5) = 5.7e-7 ≤ 1e-6.
    let s = 0;
    for (const v of x) s += v;
    expect(Math.abs(s / n)).toBeLessThanOrEqual((5 * sigma) / Math.sqrt(n));
  });

  it('has variance σ²: Σx²/σ² passes a two-sided χ²_n test at 1e-6', () => {
    // With the mean known (0), Σx²/σ² ~ χ²_n exactly; two-sided p = 2·min(CDF, SF).
    let s = 0;
    for (const v of x) s += v * v;
    const stat = s / (sigma * sigma);
    const p = 2 * Math.min(chiSquareCdf(stat, n), chiSquareSurvival(stat, n));
    expect(p).toBeGreaterThanOrEqual(1e-6);
  });

  it('is normal in shape: 100 equiprobable bins pass χ² at 1e-6', () => {
    // Bin k holds x with Φ(x/σ) ∈ [k/100, (k+1)/100); Pearson's test, false rejection ≈ 1e-6.
    const counts = new Map<number, number>();
    for (const v of x) {
      const k = Math.min(99, Math.floor(normalCdf(v / sigma) * 100));
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    const r = chiSquareGoodnessOfFit(counts, () => 0.01, { lo: 0, hi: 99 });
    expect(r.pValue).toBeGreaterThanOrEqual(1e-6);
  });

  it('catches a wrong scale (the test can fail)', () => {
    let s = 0;
    for (const v of x) s += v * v;
    const stat = s / (1.01 * sigma) ** 2; // pretend σ were 1% larger
    expect(2 * Math.min(chiSquareCdf(stat, n), chiSquareSurvival(stat, n))).toBeLessThan(1e-6);
  });
});

describe('Gaussian sampling API', () => {
  it('is reproducible from a seed and differs across seeds', () => {
    const a = gaussianVector(seededRandom(1), { length: 8, stddev: 1 });
    const b = gaussianVector(seededRandom(1), { length: 8, stddev: 1 });
    const c = gaussianVector(seededRandom(2), { length: 8, stddev: 1 });
    expect([...a]).toEqual([...b]);
    expect([...a]).not.toEqual([...c]);
    expect(Number.isFinite(sampleGaussian(seededRandom(3), 1))).toBe(true);
  });

  it('adds noise in place to float vectors', () => {
    const v = new Float32Array(1000).fill(5);
    const out = addGaussianNoise(seededRandom(4), v, 0.1);
    expect(out).toBe(v);
    expect(v.some((e) => e !== 5)).toBe(true);
    expect(v.every((e) => Math.abs(e - 5) < 1)).toBe(true);
    expect(gaussianVector(seededRandom(5), { length: 3, stddev: 0 })).toEqual(new Float64Array(3));
  });

  it('rejects bad arguments with InvalidArgument', () => {
    expect(() => gaussianVector(seededRandom(1), { length: -1, stddev: 1 })).toThrow(/length/);
    expect(() => sampleGaussian(seededRandom(1), NaN)).toThrow(/stddev/);
    try {
      sampleGaussian(seededRandom(1), -1);
    } catch (e) {
      expect(isProtocolError(e, 'InvalidArgument')).toBe(true);
    }
  });
});
