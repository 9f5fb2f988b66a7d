import { createHash } from 'node:crypto';
import type { RandomSource } from '@coopfl/protocol';
import { randomBelow, seededRandom } from '@coopfl/protocol';

/**
 * A 32-byte seed derived from the experiment's seed and labels (SHA-256 of their JSON), so each
 * node, model and round gets its own independent, reproducible stream.
 *
 * @example
 * seededRandom(deriveSeed(1, 'node', 3, 'fraud', 2));
 */
export function deriveSeed(seed: number, ...labels: (string | number)[]): Uint8Array {
  return new Uint8Array(
    createHash('sha256')
      .update(JSON.stringify([seed, ...labels]))
      .digest(),
  );
}

/**
 * A seeded random source that the simulator re-seeds before each round of a node, so a node's
 * draws in round r (shuffling, SecAgg keys, stochastic rounding) do not depend on how many
 * requests earlier rounds happened to make (timing-dependent retries and long polls).
 */
export class ReseedableRandom implements RandomSource {
  #inner: RandomSource;
  constructor(seed: Uint8Array) {
    this.#inner = seededRandom(seed);
  }
  /** Starts a fresh stream. */
  reseed(seed: Uint8Array): void {
    this.#inner = seededRandom(seed);
  }
  fill(out: Uint8Array): void {
    this.#inner.fill(out);
  }
}

/** `k` distinct indices of `0…n-1`, chosen by a partial Fisher–Yates shuffle, sorted. */
export function sampleIndices(rng: RandomSource, n: number, k: number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < Math.min(k, n); i++) {
    const j = i + randomBelow(rng, n - i);
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, Math.min(k, n)).sort((a, b) => a - b);
}
