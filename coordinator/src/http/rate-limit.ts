import { CoordinatorError } from '../errors';

/**
 * A fixed-window limiter per key (client address) for the join and login endpoints. In-memory: a
 * deployment with several coordinators limits per instance, which still bounds guessing.
 */
export class RateLimiter {
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly opts: { windowMs: number; max: number; now?: () => number }) {}

  take(key: string): void {
    const now = this.opts.now?.() ?? Date.now();
    const w = this.#windows.get(key);
    if (!w || now - w.start >= this.opts.windowMs) {
      this.#windows.set(key, { start: now, count: 1 });
      if (this.#windows.size > 10_000) this.#evict(now);
      return;
    }
    if (++w.count > this.opts.max) {
      throw new CoordinatorError(
        'RateLimited',
        `too many attempts; try again in ${Math.ceil((w.start + this.opts.windowMs - now) / 1000)} s`,
      );
    }
  }

  #evict(now: number): void {
    for (const [k, w] of this.#windows)
      if (now - w.start >= this.opts.windowMs) this.#windows.delete(k);
  }
}
