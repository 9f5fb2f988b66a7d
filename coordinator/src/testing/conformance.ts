import { expect } from 'vitest';
import { randomUnit, seededRandom } from '@coopfl/protocol';
import type { QuantizationParams } from '@coopfl/protocol/secagg';
import { quantizationBound } from '@coopfl/protocol/secagg';

/**
 * The round-channel conformance check (CONVENTIONS rule 11): whatever carries secure aggregation,
 * three FedAvg rounds of n clients must move the model exactly as plaintext FedAvg does, within the
 * quantization bound. `round(r, global, deltas)` runs one round and returns the new global model
 * and the quantization parameters it used.
 */
export async function checkThreeFedAvgRounds(
  n: number,
  dim: number,
  round: (
    r: number,
    global: Float32Array,
    deltas: Float32Array[],
  ) => Promise<{ next: Float32Array; quant: QuantizationParams }>,
): Promise<void> {
  let global: Float32Array = new Float32Array(dim);
  for (let r = 1; r <= 3; r++) {
    const rng = seededRandom(1000 * r + n);
    const deltas = Array.from({ length: n }, () =>
      Float32Array.from({ length: dim }, () => (2 * randomUnit(rng) - 1) * 0.9),
    );
    const { next, quant } = await round(r, global, deltas);
    const tolerance = quantizationBound(quant, n) / n + 4e-7 * (1 + r);
    let worst = 0;
    for (let j = 0; j < dim; j++) {
      const mean = deltas.reduce((s, d) => s + d[j]!, 0) / n;
      worst = Math.max(worst, Math.abs(next[j]! - (global[j]! + mean)));
    }
    expect(worst).toBeLessThanOrEqual(tolerance);
    global = next;
  }
}
