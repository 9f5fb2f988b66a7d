import { describe, expect, it } from 'vitest';
import { seededRandom } from '../crypto/random';
import { cryptoReady } from '../crypto/sodium';
import { poissonDraw, poissonLogPmf, ptrsConstants } from './poisson';
import { lgamma } from './special';
import { chiSquareGoodnessOfFit } from './stats';
import { UniformStream } from './uniform';

await cryptoReady();

describe('poissonLogPmf', () => {
  it('agrees with −μ + k·log μ − log k! where that is accurate', () => {
    for (const mu of [0.3, 4, 25, 300]) {
      for (let k = 0; k <= 3 * mu + 20; k++) {
        const naive = -mu + k * Math.log(mu) - lgamma(k + 1);
        expect(Math.abs(poissonLogPmf(k, mu) - naive)).toBeLessThan(
          1e-12 * Math.max(1, Math.abs(naive)),
        );
      }
    }
  });

  it('sums to 1 with mean μ even at μ = 1e9 (saddle-point form, no cancellation)', () => {
    for (const mu of [1e6, 1e9]) {
      const sd = Math.sqrt(mu);
      let total = 0;
      let mean = 0;
      for (let k = Math.floor(mu - 40 * sd); k <= mu + 40 * sd; k++) {
        const p = Math.exp(poissonLogPmf(k, mu));
        total += p;
        mean += k * p;
      }
      expect(Math.abs(total - 1)).toBeLessThan(1e-9);
      expect(Math.abs(mean / mu - 1)).toBeLessThan(1e-12);
    }
  });
});

describe.each([
  { mu: 0.5, sampler: 'inversion' },
  { mu: 9.99, sampler: 'inversion' },
  { mu: 10, sampler: 'PTRS' },
  { mu: 1000, sampler: 'PTRS' },
  { mu: 1e7, sampler: 'PTRS' },
])('Poisson($mu) by $sampler', ({ mu }) => {
  it('matches the exact pmf by χ² over 1e5 draws (false rejection ≈ 1e-6)', () => {
    const u = new UniformStream(seededRandom(mu), 4096);
    const c = ptrsConstants(mu);
    const counts = new Map<number, number>();
    for (let i = 0; i < 100_000; i++) {
      const k = poissonDraw(u, mu, c);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    const sd = Math.sqrt(mu);
    const lo = Math.max(0, Math.floor(mu - 12 * sd - 5));
    const hi = Math.ceil(mu + 12 * sd + 30);
    const r = chiSquareGoodnessOfFit(counts, (k) => Math.exp(poissonLogPmf(k, mu)), { lo, hi });
    expect(r.df).toBeGreaterThan(1);
    expect(r.pValue).toBeGreaterThanOrEqual(1e-6);
  });
});
