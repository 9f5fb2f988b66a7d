import { CoopNodeError } from '../errors';
import type { PrepareOptions } from './types';

/** Day numbers (UTC days since 1970-01-01) where validation and test begin. */
export interface DaySplit {
  readonly validationFrom: number;
  readonly testFrom: number;
}

function fraction(name: string, v: number | undefined): number {
  const f = v ?? 0.15;
  if (!(Number.isFinite(f) && f > 0 && f < 0.5)) {
    throw new CoopNodeError('InvalidArgument', `${name} must be in (0, 0.5)`);
  }
  return f;
}

/**
 * Splits the days [first, last] by time: the last `testFraction` of the days are the test period,
 * the `validationFraction` before it validation, the rest training. Time splits, never random
 * ones: a model must be judged on a future it has not seen.
 */
export function splitDays(first: number, last: number, opts: PrepareOptions): DaySplit {
  const v = fraction('validationFraction', opts.validationFraction);
  const t = fraction('testFraction', opts.testFraction);
  const days = last - first + 1;
  const testFrom = last + 1 - Math.max(1, Math.round(days * t));
  const validationFrom = testFrom - Math.max(1, Math.round(days * v));
  return { validationFrom, testFrom };
}

/** Packs equal-width rows into one array. */
export function packRows<T extends Float32Array | Int32Array>(
  rows: readonly T[],
  width: number,
  make: (n: number) => T,
): T {
  const out = make(rows.length * width);
  rows.forEach((r, i) => out.set(r, i * width));
  return out;
}
