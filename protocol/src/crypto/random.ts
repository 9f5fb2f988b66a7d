import { checkBytes, checkInt } from './check';
import { chacha20Keystream } from './keystream';
import { sodium } from './sodium';

/**
 * A source of uniformly random bytes. Everything privacy- or security-relevant takes one as a
 * parameter: production passes {@link systemRandom}, tests pass a {@link seededRandom}.
 * `Math.random` is never used.
 */
export interface RandomSource {
  /** Fills `out` with uniformly random bytes. */
  fill(out: Uint8Array): void;
}

const BLOCK = 4096;

/**
 * A deterministic random stream: the ChaCha20 keystream of a 32-byte seed. Cryptographically strong
 * when the seed is secret and random; reproducible when the seed is fixed (tests, simulations,
 * public derivations such as the neighbour graph).
 */
export class ChaChaRandom implements RandomSource {
  readonly #seed: Uint8Array;
  #buf: Uint8Array = new Uint8Array(0);
  #pos = 0;
  #counter = 0;

  constructor(seed: Uint8Array) {
    this.#seed = checkBytes('seed', seed, 32).slice();
  }

  fill(out: Uint8Array): void {
    // Drain what is buffered, then read the rest from the keystream in one call (at least BLOCK
    // bytes); the unread tail stays buffered, so the stream is the same whatever the read sizes.
    const buffered = Math.min(out.length, this.#buf.length - this.#pos);
    out.set(this.#buf.subarray(this.#pos, this.#pos + buffered));
    this.#pos += buffered;
    const rest = out.length - buffered;
    if (rest === 0) return;
    const blocks = Math.ceil(Math.max(rest, BLOCK) / 64);
    this.#buf = chacha20Keystream(this.#seed, blocks * 64, { counter: this.#counter });
    this.#counter += blocks;
    out.set(this.#buf.subarray(0, rest), buffered);
    this.#pos = rest;
  }
}

/** A {@link ChaChaRandom} seeded from libsodium's CSPRNG: fast and unpredictable. */
export function systemRandom(): RandomSource {
  const seed = sodium().randombytes_buf(32);
  try {
    return new ChaChaRandom(seed);
  } finally {
    sodium().memzero(seed);
  }
}

/** A reproducible stream for tests and simulations, derived from a number or a 32-byte seed. */
export function seededRandom(seed: number | Uint8Array): RandomSource {
  if (typeof seed === 'number') {
    const bytes = new Uint8Array(32);
    new DataView(bytes.buffer).setFloat64(0, seed, true);
    return new ChaChaRandom(bytes);
  }
  return new ChaChaRandom(seed);
}

const scratch = new Uint8Array(8);

/** A uniform 32-bit unsigned integer. */
export function randomUint32(rng: RandomSource): number {
  rng.fill(scratch.subarray(0, 4));
  return new DataView(scratch.buffer).getUint32(0, true);
}

/** A uniform integer in [0, bound) by rejection sampling (no modulo bias). bound ≤ 2^32. */
export function randomBelow(rng: RandomSource, bound: number): number {
  checkInt('bound', bound, 1, 2 ** 32);
  const limit = 2 ** 32 - (2 ** 32 % bound);
  for (;;) {
    const x = randomUint32(rng);
    if (x < limit) return x % bound;
  }
}

/** A uniform double in [0, 1) with 53 random bits. */
export function randomUnit(rng: RandomSource): number {
  rng.fill(scratch);
  const v = new DataView(scratch.buffer);
  const hi = v.getUint32(0, true) >>> 5; // 27 bits
  const lo = v.getUint32(4, true) >>> 6; // 26 bits
  return (hi * 67108864 + lo) / 9007199254740992;
}

/** Fills a Uint32Array with uniform words in one bulk read. */
export function randomWords(rng: RandomSource, count: number): Uint32Array {
  const out = new Uint32Array(count);
  rng.fill(new Uint8Array(out.buffer));
  return out;
}
