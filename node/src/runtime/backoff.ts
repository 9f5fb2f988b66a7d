import type { RandomSource } from '@coopfl/protocol';
import { randomUnit } from '@coopfl/protocol';

/**
 * Capped exponential backoff with "equal jitter": the n-th delay is uniform in
 * [d/2, d) with d = min(max, initial · 2ⁿ). Jitter keeps a cooperative's nodes from all hitting a
 * coordinator that just came back at the same instant. Randomness comes from an injected source
 * (seeded in tests), never `Math.random`.
 *
 * @example
 * const backoff = new Backoff({ initialMs: 500, maxMs: 60_000, random: systemRandom() });
 * for (;;) { try { await poll(); backoff.reset(); } catch { await sleep(backoff.next()); } }
 */
export class Backoff {
  #attempt = 0;

  constructor(private readonly o: { initialMs: number; maxMs: number; random: RandomSource }) {}

  /** Failures since the last success. */
  get attempts(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt (and counts the failure). */
  next(): number {
    const d = Math.min(this.o.maxMs, this.o.initialMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    return Math.round(d / 2 + (d / 2) * randomUnit(this.o.random));
  }

  /** After a success: start from the initial delay again. */
  reset(): void {
    this.#attempt = 0;
  }
}

/** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
