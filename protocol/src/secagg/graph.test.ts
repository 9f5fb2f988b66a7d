import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cryptoReady } from '../crypto/sodium';
import { defaultNeighbours, defaultThreshold, neighbourGraph } from './graph';

beforeAll(cryptoReady);

const seedArb = fc.uint8Array({ minLength: 32, maxLength: 32 });

describe('neighbour graph', () => {
  it('the random Harary graph is k-regular, symmetric and loop-free', () => {
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 200 }), fc.nat(), seedArb, (n, kk, seed) => {
        const k = 2 * (1 + (kk % Math.floor((n - 2) / 2)));
        const g = neighbourGraph(n, k, seed);
        return g.every(
          (nb, i) =>
            nb.length === k &&
            new Set(nb).size === k &&
            !nb.includes(i) &&
            nb.every((j) => g[j]!.includes(i)),
        );
      }),
      { numRuns: 100 },
    );
  });

  it('is determined by the seed, and different seeds give different graphs', () => {
    const a = new Uint8Array(32).fill(1);
    const b = new Uint8Array(32).fill(2);
    expect(neighbourGraph(100, 20, a)).toEqual(neighbourGraph(100, 20, a));
    expect(neighbourGraph(100, 20, a)).not.toEqual(neighbourGraph(100, 20, b));
  });

  it('k = n − 1 is the complete graph', () => {
    const g = neighbourGraph(5, 4, new Uint8Array(32));
    expect(g[2]).toEqual([0, 1, 3, 4]);
  });

  it('rejects odd or out-of-range neighbour counts with a named error', () => {
    expect(() => neighbourGraph(10, 3, new Uint8Array(32))).toThrow(
      /InvalidConfig: neighbours must be an even number/,
    );
    expect(() => neighbourGraph(10, 12, new Uint8Array(32))).toThrow(/InvalidConfig/);
    expect(() => neighbourGraph(1, 0, new Uint8Array(32))).toThrow(/at least 2 clients/);
  });

  it('defaults: complete for small cohorts, O(log n) beyond, threshold above half', () => {
    expect(defaultNeighbours(10)).toBe(9);
    expect(defaultNeighbours(100)).toBe(20);
    expect(defaultNeighbours(1000)).toBe(30);
    for (let k = 1; k < 200; k++) {
      const t = defaultThreshold(k);
      expect(t).toBeGreaterThan((k + 1) / 2);
      expect(t).toBeLessThanOrEqual(k + 1);
    }
  });
});
