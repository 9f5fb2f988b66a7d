import { ProtocolError } from '../errors';
import type { RandomSource } from '../crypto/random';
import { randomWords } from '../crypto/random';

/**
 * Fixed-point encoding of real vectors into the ring Z/2^32 used by secure aggregation.
 *
 * Each client encodes the vector (w·x_1, …, w·x_d, w) so the server can form a weighted mean from
 * the sum alone. Every encoded coordinate is bounded by B = maxWeight·max(clipRange, 1); the scale s
 * is chosen so that n clients' values, each rounded by at most one step, plus `noiseHeadroom`
 * integer units reserved for distributed DP noise, stay inside a signed 32-bit word:
 * n·(B·s + 1) + noiseHeadroom ≤ 2^31 − 1. The sum therefore never wraps and decodes exactly.
 * Rounding is stochastic (unbiased): E[q] = v·s, |q − v·s| < 1.
 *
 * Trade-off: a larger cohort or range means a coarser step (1/s); the per-coordinate error of the
 * decoded sum is below n/s.
 */
export interface QuantizationParams {
  /** Number of clients whose inputs may be summed (the cohort size). */
  clients: number;
  /** Bound on |x_i| for every coordinate of an input vector. */
  clipRange: number;
  /** Bound on a client's weight (e.g. its capped sample count). */
  maxWeight: number;
  /** Integer units of headroom reserved for summed DP noise (0 without distributed DP). */
  noiseHeadroom?: number;
}

const INT32_MAX = 2 ** 31 - 1;

/** The fixed-point scale s for these parameters; throws InvalidConfig when no scale fits. */
export function quantizationScale(p: QuantizationParams): number {
  const bound = p.maxWeight * Math.max(p.clipRange, 1);
  const room = INT32_MAX - p.clients - (p.noiseHeadroom ?? 0);
  if (!(bound > 0) || !Number.isFinite(bound) || room <= 0) {
    throw new ProtocolError(
      'InvalidConfig',
      `no fixed-point scale fits ${p.clients} clients with clipRange ${p.clipRange}, maxWeight ${p.maxWeight} and noise headroom ${p.noiseHeadroom ?? 0}`,
    );
  }
  return room / (p.clients * bound);
}

/** Largest per-coordinate error of a decoded sum of `survivors` inputs (each < one step). */
export function quantizationBound(p: QuantizationParams, survivors: number): number {
  return survivors / quantizationScale(p);
}

/**
 * Encodes (w·x, w) with stochastic rounding. Throws InvalidInput naming the first NaN/Infinity or
 * out-of-range coordinate, or a bad weight.
 */
export function encodeWeighted(
  x: ArrayLike<number>,
  weight: number,
  p: QuantizationParams,
  rng: RandomSource,
): Uint32Array {
  if (!Number.isFinite(weight) || weight < 0 || weight > p.maxWeight) {
    throw new ProtocolError('InvalidInput', `weight must be in [0, ${p.maxWeight}], got ${weight}`);
  }
  const d = x.length;
  for (let i = 0; i < d; i++) {
    const v = x[i]!;
    if (!Number.isFinite(v)) {
      throw new ProtocolError('InvalidInput', `input[${i}] is ${v}, expected a finite number`);
    }
    if (Math.abs(v) > p.clipRange) {
      throw new ProtocolError('InvalidInput', `input[${i}] is outside ±${p.clipRange} (clip first)`);
    }
  }
  const s = quantizationScale(p);
  const u = randomWords(rng, d + 1);
  const out = new Uint32Array(d + 1);
  const ws = weight * s;
  for (let i = 0; i <= d; i++) {
    const v = i < d ? x[i]! * ws : ws;
    const f = Math.floor(v);
    // Round up with probability v − f, using 32 random bits (u / 2^32 < v − f).
    const q = u[i]! < (v - f) * 4294967296 ? f + 1 : f;
    out[i] = q; // two's complement in the ring
  }
  return out;
}

/** Decodes an unmasked sum: the weighted sum Σ w_i·x_i and the total weight Σ w_i. */
export function decodeWeightedSum(
  sum: Uint32Array,
  p: QuantizationParams,
): { sum: Float64Array; weight: number } {
  const s = quantizationScale(p);
  const d = sum.length - 1;
  const out = new Float64Array(d);
  for (let i = 0; i < d; i++) out[i] = (sum[i]! | 0) / s;
  return { sum: out, weight: (sum[d]! | 0) / s };
}
