import { expect } from 'vitest';
import type { ProtocolErrorCode } from '../errors';
import { isProtocolError } from '../errors';
import type { Aggregate } from './types';

/**
 * Test helpers for the strategy suites: the plaintext aggregate that secure aggregation is
 * supposed to produce, and an assertion on named protocol errors.
 */

/** Σ w_u·Δ_u and Σ w_u in double precision, as the coordinator would get without SecAgg. */
export function plaintextAggregate(
  updates: readonly ArrayLike<number>[],
  weights: readonly number[] = updates.map(() => 1),
): Aggregate {
  const dim = updates[0]?.length ?? 0;
  const sum = new Float64Array(dim);
  let weight = 0;
  updates.forEach((u, k) => {
    const w = weights[k]!;
    weight += w;
    for (let i = 0; i < dim; i++) sum[i] = sum[i]! + w * u[i]!;
  });
  return { sum, weight };
}

/** Asserts that `fn` throws a ProtocolError with `code` whose message matches `message`. */
export function expectProtocolError(
  fn: () => unknown,
  code: ProtocolErrorCode,
  message?: RegExp,
): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(
    isProtocolError(thrown, code),
    `expected ProtocolError ${code}, got ${String(thrown)}`,
  ).toBe(true);
  if (message) expect((thrown as Error).message).toMatch(message);
}
