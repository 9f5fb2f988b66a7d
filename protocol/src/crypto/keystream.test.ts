import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import vectors from './vectors/rfc8439-chacha20.json';
import { cryptoReady } from './sodium';
import { addKeystreamWords, chacha20Keystream } from './keystream';
import { ChaChaRandom, randomBelow, randomUnit, seededRandom } from './random';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

beforeAll(cryptoReady);

describe('ChaCha20 keystream (RFC 8439)', () => {
  it.each(vectors.cases)('known answer %# on both paths', (v) => {
    for (const path of ['native', 'sodium'] as const) {
      const ks = chacha20Keystream(hex(v.key), 64, {
        nonce: hex(v.nonce),
        counter: v.counter,
        path,
      });
      expect(toHex(ks)).toBe(v.keystream);
    }
  });

  it('native and libsodium paths produce byte-identical keystreams', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.integer({ min: 0, max: 2 ** 31 - 200 }),
        fc.integer({ min: 0, max: 5000 }),
        (key, nonce, counter, length) => {
          const a = chacha20Keystream(key, length, { nonce, counter, path: 'native' });
          const b = chacha20Keystream(key, length, { nonce, counter, path: 'sodium' });
          return toHex(a) === toHex(b);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('the native chunked mask expansion adds exactly the portable keystream', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.integer({ min: 1, max: 5000 }),
        (seed, n) => {
          const a = new Uint32Array(n);
          addKeystreamWords(a, seed, 1, 'native');
          const ks = chacha20Keystream(seed, 4 * n, { path: 'sodium' });
          const expected = new Uint32Array(ks.slice().buffer);
          const b = new Uint32Array(n);
          addKeystreamWords(b, seed, -1, 'native');
          return (
            a.every((v, i) => v === expected[i]) &&
            b.every((v, i) => (v + expected[i]!) >>> 0 === 0)
          );
        },
      ),
      { numRuns: 100 },
    );
  });

  it('adding then subtracting a keystream restores the vector, and sign matters', () => {
    fc.assert(
      fc.property(
        fc.uint32Array({ minLength: 1, maxLength: 300 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (v, seed) => {
          const acc = v.slice();
          addKeystreamWords(acc, seed, 1);
          const changed = acc.some((x, i) => x !== v[i]);
          addKeystreamWords(acc, seed, -1);
          return changed && acc.every((x, i) => x === v[i]);
        },
      ),
    );
  });
});

describe('ChaChaRandom', () => {
  it('is the keystream of its seed, whatever the read sizes', () => {
    const seed = new Uint8Array(32).fill(7);
    const rng = new ChaChaRandom(seed);
    const parts = [1, 63, 4096, 5000, 3].map((n) => {
      const b = new Uint8Array(n);
      rng.fill(b);
      return toHex(b);
    });
    expect(parts.join('')).toBe(toHex(chacha20Keystream(seed, 1 + 63 + 4096 + 5000 + 3)));
  });

  it('randomBelow stays in range and randomUnit in [0, 1)', () => {
    const rng = seededRandom(3);
    for (let i = 0; i < 2000; i++) {
      const b = randomBelow(rng, 7);
      expect(b).toBeGreaterThanOrEqual(0);
      expect(b).toBeLessThan(7);
      const u = randomUnit(rng);
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
    }
  });
});
