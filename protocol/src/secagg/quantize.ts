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
  checkEncodable(x, weight, p);
  const d = x.length;
  const ws = weight * quantizationScale(p);
  // Uniform 32-bit words read as signed: u < (v − f)·2^32 − 2^31 has probability v − f, so
  // q = f + 1 with that probability (stochastic rounding). Int32 arithmetic keeps V8 on its fast
  // path; two's complement makes the stored words the ring elements.
  const u = new Int32Array(randomWords(rng, d + 1).buffer);
  const out = new Int32Array(d + 1);
  for (let i = 0; i < d; i++) {
    const v = x[i]! * ws;
    const f = Math.floor(v);
    out[i] = (u[i]! < (v - f) * 4294967296 - 2147483648 ? f + 1 : f) | 0;
  }
  const fw = Math.floor(ws);
  out[d] = (u[d]! < (ws - fw) * 4294967296 - 2147483648 ? fw + 1 : fw) | 0;
  return new Uint32Array(out.buffer);
}

/** Throws InvalidInput unless every coordinate is finite and within ±clipRange and the weight fits. */
export function checkEncodable(x: ArrayLike<number>, weight: number, p: QuantizationParams): void {
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
      throw new ProtocolError(
        'InvalidInput',
        `input[${i}] is outside ±${p.clipRange} (clip first)`,
      );
    }
  }
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
