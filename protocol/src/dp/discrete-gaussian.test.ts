import { describe, expect, it } from 'vitest';
import { seededRandom } from '../crypto/random';
import { cryptoReady } from '../crypto/sodium';
import { discreteGaussianVector, sampleDiscreteGaussian } from './discrete-gaussian';
import type { RationalVariance } from './discrete-gaussian';
import { chiSquareGoodnessOfFit } from './stats';

await cryptoReady();

/** Exact pmf of N_Z(0, σ²) by normalising exp(−k²/(2σ²)) over |k| ≤ 40σ + 10 (the rest < 1e-300). */
function exactPmf(sigma2: number) {
  const r = Math.ceil(40 * Math.sqrt(sigma2)) + 10;
  let z = 0;
  for (let k = -r; k <= r; k++) z += Math.exp((-k * k) / (2 * sigma2));
  const pmf = (k: number) => Math.exp((-k * k) / (2 * sigma2)) / z;
  let v = 0;
  let m4 = 0;
  for (let k = -r; k <= r; k++) {
    v += k * k * pmf(k);
    m4 += k ** 4 * pmf(k);
  }
  return { pmf, variance: v, fourth: m4, range: r };
}

function counts(xs: Int32Array): Map<number, number> {
  const m = new Map<number, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

const n = 100_000;
const cases: { name: string; sigma2: number | RationalVariance; value: number; seed: number }[] = [
  { name: 'σ² = 4 (double-precision path)', sigma2: 4, value: 4, seed: 21 },
  { name: 'σ² = 0.7 as a double (bigint path)', sigma2: 0.7, value: 0.7, seed: 22 },
  {
    name: 'σ² = 7/10 exactly (rational input)',
    sigma2: { numerator: 7n, denominator: 10n },
    value: 0.7,
    seed: 23,
  },
  { name: 'σ² = 2500 (t = 51)', sigma2: 2500, value: 2500, seed: 24 },
];

describe.each(cases)('discrete Gaussian, $name', ({ sigma2, value, seed }) => {
  const xs = discreteGaussianVector(seededRandom(seed), { length: n, sigma2 });
  const exact = exactPmf(value);

  it('matches the exact pmf by χ² (false rejection ≈ 1e-6)', () => {
    const r = chiSquareGoodnessOfFit(counts(xs), exact.pmf, { lo: -exact.range, hi: exact.range });
    expect(r.df).toBeGreaterThan(0);
    expect(r.pValue).toBeGreaterThanOrEqual(1e-6);
  });

  it('has mean 0 (sub-Gaussian bound, false rejection ≤ 1e-6)', () => {
    // N_Z(0, σ²) is σ²-sub-Gaussian (Canonne, Kamath & Steinke 2020, §2), so
    // P(|x̄| ≥ a) ≤ 2·exp(−n·a²/(2σ²)) = 1e-6 at a = σ·√(2·ln(2e6)/n).
    let s = 0;
    for (const x of xs) s += x;
    expect(Math.abs(s / n)).toBeLessThanOrEqual(Math.sqrt((value * 2 * Math.log(2e6)) / n));
  });

  it('has the exact variance (normal approximation, z = 5, two-sided 5.7e-7)', () => {
    // The mean of x² has variance (E x⁴ − v²)/n; by the CLT it is within 5 standard errors.
    let s = 0;
    for (const x of xs) s += x * x;
    const se = Math.sqrt((exact.fourth - exact.variance ** 2) / n);
    expect(Math.abs(s / n - exact.variance)).toBeLessThanOrEqual(5 * se);
  });
});

describe('discrete Gaussian API', () => {
  it('rejects a continuous-Gaussian-shaped wrong pmf (the test can fail)', () => {
    const xs = discreteGaussianVector(seededRandom(25), { length: n, sigma2: 4 });
    const wrong = exactPmf(4.2);
    const r = chiSquareGoodnessOfFit(counts(xs), wrong.pmf, { lo: -wrong.range, hi: wrong.range });
    expect(r.pValue).toBeLessThan(1e-6);
  });

  it('is reproducible and validates σ²', () => {
    expect(sampleDiscreteGaussian(seededRandom(9), 3)).toBe(
      sampleDiscreteGaussian(seededRandom(9), 3),
    );
    expect(() => sampleDiscreteGaussian(seededRandom(9), 0)).toThrow(/sigma2/);
    expect(() => sampleDiscreteGaussian(seededRandom(9), 2 ** 41)).toThrow(/sigma2/);
    expect(() =>
      sampleDiscreteGaussian(seededRandom(9), { numerator: -1n, denominator: 1n }),
    ).toThrow(/sigma2/);
  });

  it('draws 1e5 values with σ² = 1e6 quickly', () => {
    const t0 = performance.now();
    discreteGaussianVector(seededRandom(26), { length: 100_000, sigma2: 1e6 });
    expect(performance.now() - t0).toBeLessThan(3000);
  });
});
