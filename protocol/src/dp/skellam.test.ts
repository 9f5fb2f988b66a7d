import { describe, expect, it } from 'vitest';
import { seededRandom } from '../crypto/random';
import { cryptoReady } from '../crypto/sodium';
import { noiseHeadroom } from './distributed';
import { poissonLogPmf } from './poisson';
import { sampleSkellam, skellamVector } from './skellam';
import { chiSquareGoodnessOfFit } from './stats';

await cryptoReady();

/** Exact Sk(μ) pmf: P(k) = Σ_j Pois(j; μ)·Pois(j + |k|; μ), summed over all j with mass > 1e-300. */
function skellamPmf(mu: number): { pmf: (k: number) => number; range: number } {
  const sd = Math.sqrt(mu);
  const jMax = Math.ceil(mu + 40 * sd + 50);
  const logP = new Float64Array(2 * jMax + 1);
  for (let j = 0; j < logP.length; j++) logP[j] = poissonLogPmf(j, mu);
  const range = Math.ceil(40 * Math.sqrt(2 * mu) + 40);
  const cache = new Map<number, number>();
  const pmf = (k: number) => {
    const a = Math.abs(k);
    if (a > jMax) return 0;
    let v = cache.get(a);
    if (v === undefined) {
      v = 0;
      for (let j = 0; j <= jMax; j++) v += Math.exp(logP[j]! + logP[j + a]!);
      cache.set(a, v);
    }
    return v;
  };
  return { pmf, range };
}

const n = 100_000;

describe.each([
  { mu: 3, seed: 31 },
  { mu: 40, seed: 32 },
  { mu: 1e4, seed: 33 },
])('skellamVector(μ = $mu)', ({ mu, seed }) => {
  const xs = skellamVector(seededRandom(seed), { length: n, mu });

  it('matches the exact pmf by χ² (false rejection ≈ 1e-6)', () => {
    const counts = new Map<number, number>();
    for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
    const { pmf, range } = skellamPmf(mu);
    const r = chiSquareGoodnessOfFit(counts, pmf, { lo: -range, hi: range });
    expect(r.df).toBeGreaterThan(1);
    expect(r.pValue).toBeGreaterThanOrEqual(1e-6);
  });

  it('has mean 0 (exact Chernoff bound on Sk(nμ), false rejection ≤ 1e-6)', () => {
    // Σx ~ Sk(n·μ) exactly, and noiseHeadroom gives B with P(|Sk(nμ)| > B) ≤ 1e-6 (Chernoff).
    let s = 0;
    for (const x of xs) s += x;
    expect(Math.abs(s)).toBeLessThanOrEqual(
      noiseHeadroom({ perClientMu: mu, n, failureProb: 1e-6 }),
    );
  });

  it('has variance 2μ (normal approximation, z = 5, two-sided 5.7e-7)', () => {
    // E x⁴ = κ₄ + 3κ₂² = 2μ + 12μ², so the mean of x² has standard error √((2μ + 8μ²)/n).
    let s = 0;
    for (const x of xs) s += x * x;
    const se = Math.sqrt((2 * mu + 8 * mu * mu) / n);
    expect(Math.abs(s / n - 2 * mu)).toBeLessThanOrEqual(5 * se);
  });
});

describe('Skellam sampler API', () => {
  it('detects a wrong μ (the χ² test can fail)', () => {
    const xs = skellamVector(seededRandom(34), { length: n, mu: 40 });
    const counts = new Map<number, number>();
    for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
    const { pmf, range } = skellamPmf(42);
    expect(chiSquareGoodnessOfFit(counts, pmf, { lo: -range, hi: range }).pValue).toBeLessThan(
      1e-6,
    );
  });

  it('draws 1e5 values in well under a few hundred ms', () => {
    skellamVector(seededRandom(35), { length: 10_000, mu: 5e5 }); // warm-up (JIT)
    const t0 = performance.now();
    skellamVector(seededRandom(36), { length: 100_000, mu: 5e5 });
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(400);
  });

  it('validates μ and is reproducible', () => {
    expect(sampleSkellam(seededRandom(1), 7)).toBe(sampleSkellam(seededRandom(1), 7));
    expect(skellamVector(seededRandom(1), { length: 4, mu: 0 })).toEqual(new Int32Array(4));
    expect(() => skellamVector(seededRandom(1), { length: 4, mu: -1 })).toThrow(/mu/);
    expect(() => skellamVector(seededRandom(1), { length: 4, mu: 2 ** 41 })).toThrow(/mu/);
  });
});
