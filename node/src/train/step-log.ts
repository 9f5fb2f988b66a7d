import { CoopNodeError } from '../errors';

/**
 * One run of identical DP-SGD steps: `steps` applications of the subsampled Gaussian mechanism
 * with noise multiplier σ (noise std σ·C on a sum clipped to C) and sampling rate q. Shaped as
 * the protocol's `GaussianEvent`, so `GaussianEventSchema.parse(event)` accepts it as it is.
 */
export interface DpSgdEvent {
  readonly mechanism: 'gaussian';
  readonly noiseMultiplier: number;
  readonly samplingRate: number;
  readonly steps: number;
}

/**
 * The record-level privacy record of one model on one node: which DP-SGD steps touched its
 * records. It does no accounting itself — the protocol's ledger and accountants turn these events
 * (with model, member, unit `record` and time added) into (ε, δ) — so what was spent is stored as
 * facts, not as one accountant's estimate. Consecutive steps with the same (σ, q) are merged.
 *
 * @example
 * const log = new DpStepLog();
 * log.record(1.1, 256 / 60_000);
 * log.events(); // [{ mechanism: 'gaussian', noiseMultiplier: 1.1, samplingRate: 0.0042…, steps: 1 }]
 */
export class DpStepLog {
  #events: DpSgdEvent[] = [];

  /** Notes `steps` steps with noise multiplier σ ≥ 0 and sampling rate q ∈ (0, 1]. */
  record(noiseMultiplier: number, samplingRate: number, steps = 1): void {
    if (!(Number.isFinite(noiseMultiplier) && noiseMultiplier >= 0)) {
      throw new CoopNodeError(
        'InvalidArgument',
        'noiseMultiplier must be a non-negative finite number',
      );
    }
    if (!(samplingRate > 0 && samplingRate <= 1)) {
      throw new CoopNodeError('InvalidArgument', 'samplingRate must be in (0, 1]');
    }
    if (!Number.isInteger(steps) || steps < 1) {
      throw new CoopNodeError('InvalidArgument', 'steps must be a positive integer');
    }
    const last = this.#events[this.#events.length - 1];
    if (last && last.noiseMultiplier === noiseMultiplier && last.samplingRate === samplingRate) {
      this.#events[this.#events.length - 1] = { ...last, steps: last.steps + steps };
    } else {
      this.#events.push({ mechanism: 'gaussian', noiseMultiplier, samplingRate, steps });
    }
  }

  /** A copy of the events, oldest first (JSON-serialisable). */
  events(): DpSgdEvent[] {
    return this.#events.map((e) => ({ ...e }));
  }

  /** Total number of recorded steps. */
  get steps(): number {
    return this.#events.reduce((n, e) => n + e.steps, 0);
  }
}
