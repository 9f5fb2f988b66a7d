import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../crypto/random';
import { cryptoReady } from '../crypto/sodium';
import { gaussianVector } from '../dp/gaussian';
import { quantileInterval, quantilesFromHistogram } from './quantiles';
import { noiseBound } from './release';

await cryptoReady();

const EDGES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const binOfValue = (v: number) => Math.min(EDGES.length - 2, Math.floor(v));

/** A histogram of `values` over EDGES (values in [0, 10)). */
const histogramOf = (values: readonly number[]) => {
  const h = new Array<number>(EDGES.length - 1).fill(0);
  for (const v of values) h[binOfValue(v)]!++;
  return h;
};

const values = fc.array(fc.double({ min: 0, max: 9.999, noNaN: true }), {
  minLength: 1,
  maxLength: 200,
});
const p = fc.double({ min: 0, max: 1, noNaN: true });

describe('quantilesFromHistogram', () => {
  it('known answers (linear and log bins)', () => {
    expect(
      quantilesFromHistogram([1, 2, 1, 0], [0, 1, 2, 3, 4], [0.25, 0.5, 0.75], 'linear'),
    ).toEqual([1, 1.5, 2]);
    const [median] = quantilesFromHistogram([0, 4, 0], [1, 10, 100, 1000], [0.5], 'log');
    expect(median).toBeCloseTo(10 * Math.sqrt(10), 10);
    expect(quantilesFromHistogram([0, 0, 0], [0, 1, 2, 3], [0.5], 'linear')).toEqual([NaN]);
    // Negative (noisy) counts are clamped to 0.
    expect(quantilesFromHistogram([-3, 4, -1], [0, 1, 2, 3], [0, 1], 'linear')).toEqual([1, 2]);
  });

  it('rejects histograms that do not fit their edges, naming the problem', () => {
    expect(() => quantilesFromHistogram([1, 2], [0, 1, 2, 3], [0.5], 'linear')).toThrow(
      /counts must have edges.length − 1 = 3 entries, got 2/,
    );
    expect(() => quantilesFromHistogram([1, 2], [0, 2, 1], [0.5], 'linear')).toThrow(
      /strictly increasing/,
    );
    expect(() => quantilesFromHistogram([1, NaN], [0, 1, 2], [0.5], 'linear')).toThrow(
      /counts\[1\] is not a finite number/,
    );
    expect(() => quantilesFromHistogram([1, 1], [0, 1, 2], [1.5], 'linear')).toThrow(
      /ps\[0\] must be a number in \[0, 1\]/,
    );
    expect(() => quantilesFromHistogram([1, 1], [0, 1, 2], [0.5], 'log')).toThrow(/positive/);
  });

  it('without noise, lies in the bin of the empirical ⌈p·N⌉-th smallest value (property)', () => {
    fc.assert(
      fc.property(values, p, (vs, q) => {
        const sorted = [...vs].sort((a, b) => a - b);
        const k = Math.max(1, Math.ceil(q * sorted.length));
        const empirical = sorted[k - 1]!;
        const [est] = quantilesFromHistogram(histogramOf(vs), EDGES, [q], 'linear');
        const bin = binOfValue(empirical);
        expect(est).toBeGreaterThanOrEqual(EDGES[bin]!);
        expect(est).toBeLessThanOrEqual(EDGES[bin + 1]!);
      }),
      { numRuns: 300 },
    );
  });

  it('is monotone in p (property)', () => {
    fc.assert(
      fc.property(values, p, p, (vs, a, b) => {
        const [x, y] = quantilesFromHistogram(
          histogramOf(vs),
          EDGES,
          [Math.min(a, b), Math.max(a, b)],
          'linear',
        );
        expect(x).toBeLessThanOrEqual(y!);
      }),
    );
  });
});

describe('quantileInterval', () => {
  it('known answer: the docs example', () => {
    expect(quantileInterval([2, 9, 8, 1], [0, 1, 2, 3, 4], 0.5, 3, 'linear')).toEqual([1, 3]);
    // No noise: the interval is the estimate's bin.
    expect(quantileInterval([2, 9, 8, 1], [0, 1, 2, 3, 4], 0.5, 0, 'linear')).toEqual([1, 2]);
  });

  it('contains the noise-free estimate whenever every bin’s noise is within the bound (property)', () => {
    const noisy = fc.tuple(
      values,
      p,
      fc.double({ min: 0, max: 20, noNaN: true }),
      fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 10, maxLength: 10 }),
    );
    fc.assert(
      fc.property(noisy, ([vs, q, bound, unit]) => {
        const truth = histogramOf(vs);
        const [clean] = quantilesFromHistogram(truth, EDGES, [q], 'linear');
        const counts = truth.map((c, i) => c + bound * unit[i]!);
        const [lo, hi] = quantileInterval(counts, EDGES, q, bound, 'linear');
        expect(lo).toBeLessThanOrEqual(clean!);
        expect(hi).toBeGreaterThanOrEqual(clean!);
        const [est] = quantilesFromHistogram(counts, EDGES, [q], 'linear');
        if (!Number.isNaN(est)) {
          expect(lo).toBeLessThanOrEqual(est!);
          expect(hi).toBeGreaterThanOrEqual(est!);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('never widens as the bound shrinks (property)', () => {
    fc.assert(
      fc.property(values, p, fc.double({ min: 0, max: 10, noNaN: true }), (vs, q, b) => {
        const h = histogramOf(vs);
        const [a, z] = quantileInterval(h, EDGES, q, b, 'linear');
        const [a2, z2] = quantileInterval(h, EDGES, q, b / 2, 'linear');
        expect(a2).toBeGreaterThanOrEqual(a);
        expect(z2).toBeLessThanOrEqual(z);
      }),
    );
  });
});

describe('the estimator under Gaussian noise', () => {
  // 400 values, skewed towards low bins, as order values are.
  const rng = seededRandom(8);
  const truth = [60, 90, 80, 60, 40, 30, 20, 10, 6, 4];
  const [q1, q2, q3] = quantilesFromHistogram(truth, EDGES, [0.25, 0.5, 0.75], 'linear');

  const errorAt = (sigma: number, trials: number) => {
    let sum = 0;
    let covered = 0;
    const b = noiseBound(sigma, 0.95, truth.length);
    for (let t = 0; t < trials; t++) {
      const noise = gaussianVector(rng, { length: truth.length, stddev: sigma });
      const counts = truth.map((c, i) => c + noise[i]!);
      const est = quantilesFromHistogram(counts, EDGES, [0.25, 0.5, 0.75], 'linear');
      sum += Math.abs(est[0]! - q1!) + Math.abs(est[1]! - q2!) + Math.abs(est[2]! - q3!);
      const ok = [0.25, 0.5, 0.75].every((pp, i) => {
        const [lo, hi] = quantileInterval(counts, EDGES, pp, b, 'linear');
        return lo <= [q1, q2, q3][i]! && [q1, q2, q3][i]! <= hi;
      });
      if (ok) covered++;
    }
    return { meanError: sum / (3 * trials), coverage: covered / trials };
  };

  it('has zero error without noise, and its error grows with the noise scale', () => {
    const errors = [0, 1, 4, 16].map((s) => errorAt(s, 300).meanError);
    expect(errors[0]).toBe(0);
    for (let i = 1; i < errors.length; i++) expect(errors[i]).toBeGreaterThan(errors[i - 1]!);
    // With σ = 1 on 400 values a quartile moves by a small fraction of a bin.
    expect(errors[1]).toBeLessThan(0.1);
  });

  it('its intervals built from noiseBound cover the noise-free quartiles at the stated confidence', () => {
    for (const sigma of [1, 4, 16])
      expect(errorAt(sigma, 400).coverage).toBeGreaterThanOrEqual(0.95);
  });
});
