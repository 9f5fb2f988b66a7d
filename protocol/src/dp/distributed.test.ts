import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../crypto/random';
import { cryptoReady } from '../crypto/sodium';
import { isProtocolError } from '../errors';
import {
  distributedSkellamMu,
  noiseHeadroom,
  skellamTailLogBound,
  wrapProbability,
} from './distributed';
import { poissonLogPmf } from './poisson';
import { skellamVector } from './skellam';

await cryptoReady();

describe('distributedSkellamMu', () => {
  it('gives ANY t..n survivors at least the target variance (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 1e-3, max: 1e12, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (clients, tFrac, targetVariance, sFrac) => {
          const threshold = 1 + Math.floor(tFrac * (clients - 1));
          const survivors = threshold + Math.floor(sFrac * (clients - threshold));
          const { perClientMu, minTotalVariance, maxTotalVariance } = distributedSkellamMu({
            clients,
            threshold,
            targetVariance,
          });
          // Noise of s independent Sk(μ) shares is Sk(sμ) with variance 2μs.
          for (const s of [threshold, survivors, clients]) {
            expect(2 * perClientMu * s).toBeGreaterThanOrEqual(targetVariance);
          }
          expect(minTotalVariance).toBeGreaterThanOrEqual(targetVariance);
          expect(minTotalVariance).toBeLessThanOrEqual(targetVariance * (1 + 1e-12));
          expect(maxTotalVariance).toBeCloseTo((clients / threshold) * minTotalVariance, 3);
        },
      ),
      { numRuns: 500, seed: 7 },
    );
  });

  it('rejects a threshold above the cohort', () => {
    try {
      distributedSkellamMu({ clients: 3, threshold: 4, targetVariance: 1 });
      expect.unreachable();
    } catch (e) {
      expect(isProtocolError(e, 'InvalidConfig')).toBe(true);
    }
  });
});

/** Exact P(|Sk(m)| > b) from the pmf (small m only). */
function exactTwoSidedTail(m: number, b: number): number {
  const jMax = Math.ceil(m + 60 * Math.sqrt(m) + 200);
  let tail = 0;
  for (let k = b + 1; k <= 2 * jMax; k++) {
    let p = 0;
    for (let j = 0; j <= jMax; j++) p += Math.exp(poissonLogPmf(j, m) + poissonLogPmf(j + k, m));
    tail += p;
    if (p < 1e-30 && k > b + 10) break;
  }
  return 2 * tail;
}

describe('noiseHeadroom', () => {
  it.each([
    { perClientMu: 0.5, n: 4, failureProb: 1e-3 },
    { perClientMu: 2.5, n: 4, failureProb: 1e-6 },
    { perClientMu: 10, n: 10, failureProb: 1e-9 },
  ])('bounds the exact tail: $perClientMu × $n at $failureProb', (opts) => {
    const b = noiseHeadroom(opts);
    const m = opts.perClientMu * opts.n;
    expect(exactTwoSidedTail(m, b)).toBeLessThanOrEqual(opts.failureProb);
    // Minimal for the Chernoff bound: one less would not be certified.
    expect(2 * Math.exp(skellamTailLogBound(m, b))).toBeGreaterThan(opts.failureProb);
    // And not absurdly loose: within 2× of the exact quantile's requirement.
    expect(exactTwoSidedTail(m, Math.floor(b / 2))).toBeGreaterThan(opts.failureProb);
  });

  it('is consistent with simulation at a loose failure probability', () => {
    const perClientMu = 50;
    const n = 20;
    const b = noiseHeadroom({ perClientMu, n, failureProb: 0.01 });
    const draws = skellamVector(seededRandom(41), { length: 100_000, mu: perClientMu * n });
    let over = 0;
    for (const x of draws) if (Math.abs(x) > b) over++;
    // Expected ≤ 1000 exceedances; binomial(1e5, 0.01) exceeds 1000 + 5·31.5 with prob < 1e-6.
    expect(over).toBeLessThanOrEqual(1000 + 5 * Math.sqrt(1e5 * 0.01 * 0.99));
  });

  it('grows like √(nμ·log(1/p)) and validates arguments', () => {
    const b1 = noiseHeadroom({ perClientMu: 8334, n: 100, failureProb: 1e-9 });
    const sd = Math.sqrt(2 * 8334 * 100);
    expect(b1 / sd).toBeGreaterThan(6);
    expect(b1 / sd).toBeLessThan(7);
    expect(noiseHeadroom({ perClientMu: 0, n: 5, failureProb: 1e-9 })).toBe(0);
    expect(() => noiseHeadroom({ perClientMu: 1, n: 0, failureProb: 0.1 })).toThrow(/n must/);
    expect(() => noiseHeadroom({ perClientMu: 1, n: 1, failureProb: 0 })).toThrow(/failureProb/);
  });
});

describe('wrapProbability', () => {
  it('is 1 when the inputs alone can fill the ring, tiny with room to spare', () => {
    expect(wrapProbability({ n: 10, maxAbsInput: 2 ** 28, perClientMu: 1, dimension: 1 })).toBe(1);
    const p = wrapProbability({ n: 100, maxAbsInput: 2 ** 20, perClientMu: 8334, dimension: 1e6 });
    expect(p).toBeLessThan(1e-100);
  });

  it('agrees with noiseHeadroom: a ring with room B for failureProb/d per coordinate', () => {
    const perClientMu = 5e7;
    const n = 10;
    const dimension = 1000;
    const b = noiseHeadroom({ perClientMu, n, failureProb: 1e-6 / dimension });
    const maxAbsInput = Math.floor((2 ** 31 - b) / n);
    const p = wrapProbability({ n, maxAbsInput, perClientMu, dimension });
    expect(p).toBeLessThanOrEqual(1e-6 * 1.0001);
    expect(
      wrapProbability({ n, maxAbsInput: maxAbsInput + 1000, perClientMu, dimension }),
    ).toBeGreaterThan(p);
  });
});
