import type { RandomSource } from '../crypto/random';
import { ProtocolError } from '../errors';

const TWO_32 = 4294967296;
const TWO_53 = 9007199254740992;

/**
 * Uniform variates read from a {@link RandomSource} in bulk: one `fill` per `bufferWords` 32-bit
 * words instead of one per draw, which is what makes a million noise draws take milliseconds.
 * Every method is exact (rejection sampling, no modulo bias). Not exported from the package: the
 * samplers take a RandomSource and build one of these internally.
 *
 * @example
 * const u = new UniformStream(seededRandom(1));
 * u.unit(); // a double in [0, 1) with 53 random bits
 */
export class UniformStream {
  readonly #rng: RandomSource;
  readonly #words: Uint32Array;
  readonly #bytes: Uint8Array;
  #pos: number;
  #bits = 0;
  #bitCount = 0;

  constructor(rng: RandomSource, bufferWords = 1024) {
    if (typeof rng?.fill !== 'function') {
      throw new ProtocolError('InvalidArgument', 'rng must be a RandomSource');
    }
    this.#rng = rng;
    this.#words = new Uint32Array(bufferWords);
    this.#bytes = new Uint8Array(this.#words.buffer);
    this.#pos = bufferWords;
  }

  /** A uniform 32-bit unsigned integer. */
  uint32(): number {
    if (this.#pos === this.#words.length) {
      this.#rng.fill(this.#bytes);
      this.#pos = 0;
    }
    return this.#words[this.#pos++]!;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  unit(): number {
    const hi = this.uint32() >>> 5; // 27 bits
    const lo = this.uint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / TWO_53;
  }

  /** A uniform double in (0, 1): never 0, so its logarithm is finite. */
  unitOpen(): number {
    for (;;) {
      const u = this.unit();
      if (u !== 0) return u;
    }
  }

  /** One fair bit. */
  bit(): number {
    if (this.#bitCount === 0) {
      this.#bits = this.uint32();
      this.#bitCount = 32;
    }
    const b = this.#bits & 1;
    this.#bits >>>= 1;
    this.#bitCount--;
    return b;
  }

  /** A uniform integer in [0, bound) for an integer 1 ≤ bound ≤ 2^53. */
  below(bound: number): number {
    if (bound <= TWO_32) {
      const limit = TWO_32 - (TWO_32 % bound);
      for (;;) {
        const x = this.uint32();
        if (x < limit) return x % bound;
      }
    }
    // 53-bit draws; 2^53 % bound is exact in double arithmetic (fmod is exact).
    const limit = TWO_53 - (TWO_53 % bound);
    for (;;) {
      const x = (this.uint32() >>> 11) * TWO_32 + this.uint32();
      if (x < limit) return x % bound;
    }
  }

  /** A uniform bigint in [0, bound) for any bound ≥ 1n. */
  bigBelow(bound: bigint): bigint {
    if (bound <= BigInt(TWO_53)) return BigInt(this.below(Number(bound)));
    const bits = bound.toString(2).length;
    const words = Math.ceil(bits / 32);
    const topMask = bits % 32 === 0 ? 0xffffffff : 2 ** (bits % 32) - 1;
    for (;;) {
      let x = BigInt((this.uint32() & topMask) >>> 0);
      for (let i = 1; i < words; i++) x = (x << 32n) | BigInt(this.uint32());
      if (x < bound) return x;
    }
  }
}
