import type { RandomSource } from '../crypto/random';
import { randomUnit } from '../crypto/random';
import type { ClientInput } from './client';
import type { AggregateResult } from './server';

/** Random inputs in [−clip, clip] with weights in [0.5, maxWeight], for tests and benchmarks. */
export function randomInputs(
  rng: RandomSource,
  n: number,
  dim: number,
  clip = 1,
  maxWeight = 1,
): ClientInput[] {
  return Array.from({ length: n }, () => ({
    vector: Float64Array.from({ length: dim }, () => (2 * randomUnit(rng) - 1) * clip),
    weight: maxWeight === 1 ? 1 : 0.5 + randomUnit(rng) * (maxWeight - 0.5),
  }));
}

/** Largest coordinate-wise gap between an aggregate and the plaintext weighted sum. */
export function plaintextGap(
  result: AggregateResult,
  inputs: readonly ClientInput[],
): { sum: number; weight: number } {
  const dim = result.sum.length;
  let sumGap = 0;
  let weight = 0;
  for (const u of result.survivors) weight += inputs[u]!.weight ?? 1;
  for (let j = 0; j < dim; j++) {
    let s = 0;
    for (const u of result.survivors) s += (inputs[u]!.weight ?? 1) * inputs[u]!.vector[j]!;
    sumGap = Math.max(sumGap, Math.abs(s - result.sum[j]!));
  }
  return { sum: sumGap, weight: Math.abs(weight - result.weight) };
}
