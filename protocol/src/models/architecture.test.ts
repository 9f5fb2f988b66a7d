import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { cryptoReady } from '../crypto/sodium';
import { seededRandom } from '../crypto/random';
import {
  DEMAND_FEATURES,
  FRAUD_FEATURES,
  MODEL_KINDS,
  catalogBucket,
  defaultArchitecture,
  initialWeights,
  manifestOf,
} from './index';

describe('model architectures', () => {
  beforeAll(cryptoReady);

  it('lays out the default networks with the documented sizes', () => {
    const demand = manifestOf(defaultArchitecture('demand'));
    expect(demand.entries.map((e) => e.shape)).toEqual([
      [DEMAND_FEATURES.length, 64],
      [64],
      [64, 64],
      [64],
      [64, 28],
      [28],
    ]);
    const reco = manifestOf(defaultArchitecture('recommendation'));
    expect(reco.dim).toBe(4096 * 32 + 32 * 64 + 64 + 64 * 4096 + 4096);
    const fraud = manifestOf(defaultArchitecture('fraud'));
    expect(fraud.entries[0]!.shape).toEqual([FRAUD_FEATURES.length, 32]);
    for (const kind of MODEL_KINDS) {
      const m = manifestOf(defaultArchitecture(kind));
      // Entries tile the vector without gaps or overlaps.
      let at = 0;
      for (const e of m.entries) {
        expect(e.offset).toBe(at);
        at += e.size;
      }
      expect(at).toBe(m.dim);
    }
  });

  it('refuses an architecture with a non-linear output or both inputs', () => {
    const a = defaultArchitecture('fraud');
    expect(() => manifestOf({ ...a, layers: [{ units: 1, activation: 'sigmoid' }] })).toThrow(
      /output layer must be linear/,
    );
    expect(() => manifestOf({ ...a, embedding: { vocab: 10, dim: 2, history: 3 } })).toThrow(
      /either inputDim or an embedding/,
    );
  });

  it('initialises reproducibly: zero biases, kernels within the Glorot limit', () => {
    const arch = defaultArchitecture('demand');
    const a = initialWeights(arch, seededRandom(7));
    const b = initialWeights(arch, seededRandom(7));
    const c = initialWeights(arch, seededRandom(8));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    for (const e of manifestOf(arch).entries) {
      const slice = a.subarray(e.offset, e.offset + e.size);
      if (e.init === 'zeros') expect(slice.every((v) => v === 0)).toBe(true);
      else {
        const limit = Math.sqrt(6 / (e.shape[0]! + e.shape[1]!));
        const max = slice.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        expect(max).toBeLessThanOrEqual(limit);
        expect(max).toBeGreaterThan(0.9 * limit); // uses the whole range
      }
    }
  });

  it('hashes catalog keys into [1, vocab) stably', () => {
    // FNV-1a 32 of "a" is 0xe40c292c (published test vector).
    expect(catalogBucket('a', 2 ** 32 + 1)).toBe(1 + 0xe40c292c);
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 2, max: 100_000 }), (key, vocab) => {
        const b = catalogBucket(key, vocab);
        return b >= 1 && b < vocab && b === catalogBucket(key, vocab);
      }),
    );
  });
});
