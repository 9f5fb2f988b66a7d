import { describe, expect, it } from 'vitest';
import { chiSquareCdf, chiSquareGoodnessOfFit, chiSquareSurvival, gammaP, gammaQ } from './stats';
import vectors from './vectors/special.json';

describe('regularized incomplete gamma (vectors: mpmath)', () => {
  it.each(vectors.gamma_q)('Q($a, $x)', ({ a, x, q }) => {
    // Large a loses ~log10(a) digits in the prefactor exp(−x + a·log x − lgamma(a)).
    expect(Math.abs(gammaQ(a, x) / q - 1)).toBeLessThan(a > 1000 ? 1e-9 : 1e-12);
    expect(Math.abs(gammaP(a, x) - (1 - q))).toBeLessThan(1e-9);
  });
});

describe('chi-square distribution', () => {
  it('matches textbook critical values', () => {
    expect(chiSquareSurvival(3.841458820694124, 1)).toBeCloseTo(0.05, 12);
    expect(chiSquareSurvival(18.307038053275146, 10)).toBeCloseTo(0.05, 12);
    expect(chiSquareCdf(0.003932140000019522, 1)).toBeCloseTo(0.05, 8);
  });
});

describe('chiSquareGoodnessOfFit', () => {
  const binomialPmf = (k: number) => (k < 0 || k > 4 ? 0 : [1, 4, 6, 4, 1][k]! / 16);
  it('accepts exact counts and rejects a wrong model', () => {
    const n = 16_000;
    const exact = new Map([0, 1, 2, 3, 4].map((k) => [k, n * binomialPmf(k)]));
    expect(chiSquareGoodnessOfFit(exact, binomialPmf, { lo: 0, hi: 4 }).pValue).toBeCloseTo(1, 12);
    const uniform = new Map([0, 1, 2, 3, 4].map((k) => [k, n / 5]));
    expect(chiSquareGoodnessOfFit(uniform, binomialPmf, { lo: 0, hi: 4 }).pValue).toBeLessThan(
      1e-100,
    );
  });
  it('merges bins until each expects at least 5 draws', () => {
    const counts = new Map([
      [0, 1],
      [1, 3],
      [2, 6],
      [3, 4],
      [4, 2],
    ]);
    const r = chiSquareGoodnessOfFit(counts, binomialPmf, { lo: 0, hi: 4 });
    // n = 16 expects 1, 4, 6, 4, 1: bins {0,1}, {2}, {3,4}.
    expect(r.bins).toBe(3);
    expect(r.df).toBe(2);
  });
});
