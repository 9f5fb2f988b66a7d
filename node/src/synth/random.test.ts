import { beforeAll, describe, expect, it } from 'vitest';
import { cryptoReady, seededRandom } from '@coopfl/protocol';
import {
  bernoulli,
  cumulative,
  dirichlet,
  gamma,
  normal,
  pareto,
  pickCumulative,
  poisson,
  shuffle,
} from './random';

beforeAll(async () => {
  await cryptoReady();
});

/** Sample mean and variance of n draws. */
function moments(n: number, draw: () => number): { mean: number; variance: number } {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const x = draw();
    s += x;
    s2 += x * x;
  }
  const mean = s / n;
  return { mean, variance: s2 / n - mean * mean };
}

// Tolerances are ≥ 5 standard errors of the estimate, so a correct sampler fails with
// probability < 1e-6 per check; the seeds are fixed, so the tests are deterministic anyway.
describe('synth samplers', () => {
  const n = 40_000;

  it('normal has the requested mean and sd', () => {
    const rng = seededRandom(1);
    const m = moments(n, () => normal(rng, 3, 2));
    expect(Math.abs(m.mean - 3)).toBeLessThan((5 * 2) / Math.sqrt(n));
    expect(Math.abs(m.variance - 4)).toBeLessThan(0.2);
  });

  it.each([0.5, 4, 25, 300])('poisson(%d) has mean = variance = λ', (lambda) => {
    const rng = seededRandom(2);
    const m = moments(n, () => poisson(rng, lambda));
    expect(Math.abs(m.mean - lambda)).toBeLessThan(5 * Math.sqrt(lambda / n));
    expect(Math.abs(m.variance / lambda - 1)).toBeLessThan(0.05);
  });

  it('poisson draws are non-negative integers', () => {
    const rng = seededRandom(3);
    for (let i = 0; i < 2000; i++) {
      const k = poisson(rng, 15);
      expect(Number.isInteger(k) && k >= 0).toBe(true);
    }
  });

  it.each([0.3, 1, 7.5])('gamma(%d) has mean = shape, variance = shape', (shape) => {
    const rng = seededRandom(4);
    const m = moments(n, () => gamma(rng, shape));
    expect(Math.abs(m.mean - shape)).toBeLessThan(5 * Math.sqrt(shape / n));
    expect(Math.abs(m.variance / shape - 1)).toBeLessThan(0.08);
  });

  it('dirichlet sums to one; small concentration is more peaked than large', () => {
    const rng = seededRandom(5);
    const maxShare = (a: number) => {
      let s = 0;
      for (let i = 0; i < 500; i++) {
        const p = dirichlet(rng, Array<number>(10).fill(a));
        expect(p.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 9);
        s += Math.max(...p);
      }
      return s / 500;
    };
    expect(maxShare(0.1)).toBeGreaterThan(0.6);
    expect(maxShare(50)).toBeLessThan(0.2);
  });

  it('pareto tail follows P(X > x) = x^-α', () => {
    const rng = seededRandom(6);
    let above = 0;
    for (let i = 0; i < n; i++) if (pareto(rng, 1.5) > 4) above++;
    const p = 4 ** -1.5; // 0.125
    expect(Math.abs(above / n - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
  });

  it('bernoulli and pickCumulative match their probabilities', () => {
    const rng = seededRandom(7);
    let hits = 0;
    for (let i = 0; i < n; i++) if (bernoulli(rng, 0.2)) hits++;
    expect(Math.abs(hits / n - 0.2)).toBeLessThan(0.01);
    const cum = cumulative([1, 0, 3]);
    const counts = [0, 0, 0];
    for (let i = 0; i < n; i++) counts[pickCumulative(rng, cum)]!++;
    expect(counts[1]).toBe(0);
    expect(Math.abs(counts[2]! / n - 0.75)).toBeLessThan(0.01);
  });

  it('the same seed gives the same stream; shuffle is a permutation', () => {
    const a = shuffle(seededRandom(8), [...Array(50).keys()]);
    const b = shuffle(seededRandom(8), [...Array(50).keys()]);
    expect(a).toEqual(b);
    expect([...a].sort((x, y) => x - y)).toEqual([...Array(50).keys()]);
    expect(a).not.toEqual([...Array(50).keys()]);
  });
});
