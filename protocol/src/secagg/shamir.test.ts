import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cryptoReady } from '../crypto/sodium';
import { seededRandom } from '../crypto/random';
import { isProtocolError } from '../errors';
import { lagrangeAt, SHAMIR_PRIME, shamirReconstruct, shamirShare } from './shamir';
import type { Share } from './shamir';
import { reconstructVerified } from './reconstruct';

beforeAll(cryptoReady);

const secretArb = fc.uint8Array({ minLength: 32, maxLength: 32 });
const paramsArb = fc
  .integer({ min: 1, max: 9 })
  .chain((n) =>
    fc.record({ n: fc.constant(n), t: fc.integer({ min: 1, max: n }), seed: fc.nat() }),
  );

/** Evaluates the polynomial through `shares` at `x` (chunk by chunk). */
function evaluate(shares: readonly Share[], x: number): Uint32Array {
  const lambda = lagrangeAt(
    shares.map((s) => s.x),
    x,
  );
  const y = new Uint32Array(16);
  for (let c = 0; c < 16; c++) {
    let acc = 0;
    shares.forEach(
      (s, j) => (acc = (acc + ((lambda[j]! * s.y[c]!) % SHAMIR_PRIME)) % SHAMIR_PRIME),
    );
    y[c] = acc;
  }
  return y;
}

describe('Shamir secret sharing over F_65537', () => {
  it('every t-subset of the shares reconstructs the secret', () => {
    fc.assert(
      fc.property(secretArb, paramsArb, fc.nat(), (secret, { n, t, seed }, pick) => {
        const xs = Array.from({ length: n }, (_, i) => 3 * i + 1);
        const shares = shamirShare(secret, xs, t, seededRandom(seed));
        // a pseudo-random t-subset in a pseudo-random order
        const order = shares
          .map((s, i) => ({ s, k: (i * 7919 + pick) % 104729 }))
          .sort((a, b) => a.k - b.k);
        const subset = order.slice(0, t).map((o) => o.s);
        return Buffer.from(shamirReconstruct(subset, t)).equals(secret);
      }),
      { numRuns: 300 },
    );
  });

  it('t − 1 shares are consistent with every candidate secret (they reveal nothing)', () => {
    fc.assert(
      fc.property(secretArb, secretArb, paramsArb, (secret, candidate, { n, t, seed }) => {
        fc.pre(t >= 2);
        const xs = Array.from({ length: n }, (_, i) => i + 1);
        const known = shamirShare(secret, xs, t, seededRandom(seed)).slice(0, t - 1);
        // The degree-(t−1) polynomial through (0, candidate) and the t − 1 known shares exists and
        // is unique, so the known shares cannot rule the candidate out.
        const view = new DataView(candidate.buffer, candidate.byteOffset, 32);
        const atZero: Share = {
          x: 0,
          y: Uint32Array.from({ length: 16 }, (_, c) => view.getUint16(2 * c, true)),
        };
        const forged: Share = { x: 60000, y: evaluate([atZero, ...known], 60000) };
        return Buffer.from(shamirReconstruct([...known, forged], t)).equals(candidate);
      }),
      { numRuns: 200 },
    );
  });

  it('fewer than t shares is a named error', () => {
    const shares = shamirShare(new Uint8Array(32), [1, 2, 3], 3, seededRandom(1));
    expect(() => shamirReconstruct(shares.slice(0, 2), 3)).toThrow(
      /TooFewShares: need 3 shares, got 2/,
    );
  });

  it('a tampered share never yields a wrong secret once checked against the commitment', () => {
    fc.assert(
      fc.property(
        secretArb,
        fc.integer({ min: 2, max: 6 }),
        fc.nat(),
        fc.nat(),
        (secret, t, seed, where) => {
          const shares = shamirShare(
            secret,
            Array.from({ length: t }, (_, i) => i + 1),
            t,
            seededRandom(seed),
          );
          const bad = shares.map((s) => ({ x: s.x, y: s.y.slice() }));
          const victim = bad[where % t]!;
          victim.y[where % 16] = (victim.y[where % 16]! + 1 + (where % 1000)) % SHAMIR_PRIME;
          try {
            reconstructVerified(bad, t, 'secret of client 4', (s) => Buffer.from(s).equals(secret));
            return false;
          } catch (err) {
            return isProtocolError(err, 'ShareMismatch') && String(err).includes('client 4');
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('with more than t shares, one tampered share is tolerated', () => {
    fc.assert(
      fc.property(secretArb, fc.integer({ min: 2, max: 6 }), fc.nat(), (secret, t, where) => {
        const shares = shamirShare(
          secret,
          Array.from({ length: t + 2 }, (_, i) => i + 1),
          t,
          seededRandom(where),
        );
        const bad = shares.map((s) => ({ x: s.x, y: s.y.slice() }));
        const victim = bad[where % bad.length]!;
        victim.y[0] = (victim.y[0]! + 1) % SHAMIR_PRIME;
        const got = reconstructVerified(bad, t, 'x', (s) => Buffer.from(s).equals(secret));
        return Buffer.from(got).equals(secret);
      }),
      { numRuns: 100 },
    );
  });

  it('rejects duplicate or out-of-field x-coordinates', () => {
    expect(() => shamirShare(new Uint8Array(32), [1, 1], 2, seededRandom(1))).toThrow(
      /duplicate x-coordinate/,
    );
    expect(() => shamirShare(new Uint8Array(32), [0, 1], 2, seededRandom(1))).toThrow(
      /x-coordinate/,
    );
  });
});
