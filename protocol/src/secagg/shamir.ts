import { ProtocolError } from '../errors';
import { checkBytes, checkInt } from '../crypto/check';
import type { RandomSource } from '../crypto/random';

/**
 * Shamir secret sharing (Shamir 1979) of 32-byte secrets over the prime field F_p, p = 65537.
 *
 * A secret is split into 16 little-endian 16-bit chunks; each chunk is the constant term of its own
 * random polynomial of degree t−1. p = 2^16 + 1 keeps every product below 2^34, so all arithmetic
 * stays exact in float64 words (no big integers), which is what makes reconstruction cheap
 * (Flower's SecAgg+ spends most of its server time in big-integer Shamir). Any t shares reconstruct;
 * t−1 shares are independent of the secret (each chunk is information-theoretically hidden).
 * Share x-coordinates are 1..65536, so a round has at most 65,536 participants.
 */
export const SHAMIR_PRIME = 65537;
export const SECRET_BYTES = 32;
const CHUNKS = SECRET_BYTES / 2;
/** Bytes of one encoded share value (16 field elements, 4 bytes each). */
export const SHARE_BYTES = CHUNKS * 4;

export interface Share {
  /** Evaluation point, 1..65536 (the holder's 1-based index in the round). */
  x: number;
  /** 16 field elements, one per chunk of the secret. */
  y: Uint32Array;
}

const P = SHAMIR_PRIME;
const mul = (a: number, b: number): number => (a * b) % P;

function pow(base: number, exp: number): number {
  let result = 1;
  let b = base % P;
  let e = exp;
  while (e > 0) {
    if (e & 1) result = mul(result, b);
    b = mul(b, b);
    e = Math.floor(e / 2);
  }
  return result;
}

/** Multiplicative inverse by Fermat's little theorem. */
const inv = (a: number): number => pow(a, P - 2);

function randomFieldElements(rng: RandomSource, count: number): Uint32Array {
  // Rejection sampling from 32-bit words: accept below the largest multiple of p (no bias).
  const limit = 2 ** 32 - (2 ** 32 % P);
  const out = new Uint32Array(count);
  const buf = new Uint32Array(count + 8);
  let filled = 0;
  while (filled < count) {
    rng.fill(new Uint8Array(buf.buffer));
    for (let i = 0; i < buf.length && filled < count; i++) {
      if (buf[i]! < limit) out[filled++] = buf[i]! % P;
    }
  }
  return out;
}

/**
 * Splits a 32-byte secret into shares at the given x-coordinates with threshold t.
 *
 * @example
 * const shares = shamirShare(secret, [1, 2, 3, 4, 5], 3, systemRandom());
 * shamirReconstruct(shares.slice(2), 3); // === secret
 */
export function shamirShare(
  secret: Uint8Array,
  xs: readonly number[],
  t: number,
  rng: RandomSource,
): Share[] {
  checkBytes('secret', secret, SECRET_BYTES);
  checkInt('threshold', t, 1, xs.length);
  const seen = new Set<number>();
  for (const x of xs) {
    checkInt('share x-coordinate', x, 1, P - 1);
    if (seen.has(x)) throw new ProtocolError('InvalidArgument', `duplicate x-coordinate ${x}`);
    seen.add(x);
  }
  // coeffs[c * (t - 1) + j] is the coefficient of x^(j+1) in chunk c's polynomial.
  const coeffs = randomFieldElements(rng, CHUNKS * (t - 1));
  const view = new DataView(secret.buffer, secret.byteOffset, SECRET_BYTES);
  const shares: Share[] = xs.map((x) => ({ x, y: new Uint32Array(CHUNKS) }));
  for (let c = 0; c < CHUNKS; c++) {
    const constant = view.getUint16(2 * c, true);
    for (const share of shares) {
      // Horner's rule from the highest coefficient down.
      let acc = 0;
      for (let j = t - 2; j >= 0; j--) acc = (mul(acc, share.x) + coeffs[c * (t - 1) + j]!) % P;
      share.y[c] = (mul(acc, share.x) + constant) % P;
    }
  }
  coeffs.fill(0);
  return shares;
}

/**
 * Lagrange coefficients for evaluating, at `at`, the polynomial through the given x-coordinates:
 * λ_j = Π_{m≠j} (at − x_m) / (x_j − x_m). Reconstruction uses at = 0.
 */
export function lagrangeAt(xs: readonly number[], at: number): number[] {
  return xs.map((xj, j) => {
    let num = 1;
    let den = 1;
    for (let m = 0; m < xs.length; m++) {
      if (m === j) continue;
      const xm = xs[m]!;
      num = mul(num, (at - xm + P) % P);
      den = mul(den, (xj - xm + P) % P);
    }
    return mul(num, inv(den));
  });
}

/**
 * Reconstructs the secret from the first t of the given shares. Throws TooFewShares below t, and
 * ShareMismatch when the result is not a valid secret encoding (a chunk ≥ 2^16), which a tampered
 * share usually causes; callers must still check the result against the owner's commitment.
 */
export function shamirReconstruct(shares: readonly Share[], t: number): Uint8Array {
  checkInt('threshold', t, 1, P - 1);
  if (shares.length < t) {
    throw new ProtocolError('TooFewShares', `need ${t} shares, got ${shares.length}`);
  }
  const used = shares.slice(0, t);
  const xs = used.map((s) => s.x);
  if (new Set(xs).size !== xs.length) {
    throw new ProtocolError('InvalidArgument', 'shares have duplicate x-coordinates');
  }
  for (const s of used) {
    if (s.y.length !== CHUNKS) {
      throw new ProtocolError('InvalidArgument', `share ${s.x} has ${s.y.length} chunks, need 16`);
    }
  }
  const lambda = lagrangeAt(xs, 0);
  const out = new Uint8Array(SECRET_BYTES);
  const view = new DataView(out.buffer);
  for (let c = 0; c < CHUNKS; c++) {
    let acc = 0;
    for (let j = 0; j < t; j++) acc = (acc + mul(lambda[j]!, used[j]!.y[c]! % P)) % P;
    if (acc > 0xffff) {
      throw new ProtocolError('ShareMismatch', 'shares do not interpolate to a valid secret');
    }
    view.setUint16(2 * c, acc, true);
  }
  return out;
}
