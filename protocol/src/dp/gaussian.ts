import type { RandomSource } from '../crypto/random';
import { ProtocolError } from '../errors';
import { UniformStream } from './uniform';

function checkStddev(stddev: number): void {
  if (typeof stddev !== 'number' || !(stddev >= 0) || !Number.isFinite(stddev)) {
    throw new ProtocolError('InvalidArgument', 'stddev must be a finite number ≥ 0');
  }
}

function checkLength(length: number): void {
  if (!Number.isInteger(length) || length < 0 || length > 2 ** 31) {
    throw new ProtocolError('InvalidArgument', `length must be an integer in [0, 2^31]`);
  }
}

/**
 * Fills `out[0..count)` with N(0, stddev²) draws by Marsaglia's polar method (Marsaglia & Bray 1964)
 * on 53-bit uniforms: pairs (u, v) uniform in the unit disc, s = u² + v², and both u·√(−2 ln s / s)
 * and v·√(−2 ln s / s) are independent standard normals.
 */
function fillGaussian(u: UniformStream, out: Float64Array | Float32Array, stddev: number): void {
  const n = out.length;
  let i = 0;
  while (i < n) {
    const a = 2 * u.unit() - 1;
    const b = 2 * u.unit() - 1;
    const s = a * a + b * b;
    if (s >= 1 || s === 0) continue;
    const f = stddev * Math.sqrt((-2 * Math.log(s)) / s);
    out[i++] = a * f;
    if (i < n) out[i++] = b * f;
  }
}

/**
 * One draw from the continuous Gaussian N(0, stddev²), for central DP where the coordinator adds
 * noise to the unmasked float sum. Randomness comes from the caller's RandomSource (a CSPRNG in
 * production, a seeded stream in tests), never from the platform PRNG. Floating-point Gaussian noise is
 * the standard for central DP-FedAvg; where the noise must be integer (distributed DP under secure
 * aggregation) use {@link sampleSkellam} or {@link sampleDiscreteGaussian}.
 *
 * @example
 * const x = sampleGaussian(systemRandom(), 2.5); // one draw with σ = 2.5
 */
export function sampleGaussian(rng: RandomSource, stddev: number): number {
  checkStddev(stddev);
  const out = new Float64Array(1);
  if (stddev > 0) fillGaussian(new UniformStream(rng, 16), out, stddev);
  return out[0]!;
}

/**
 * `length` independent N(0, stddev²) draws, reading the RandomSource in bulk (a million draws in
 * well under a second).
 *
 * @example
 * const noise = gaussianVector(systemRandom(), { length: 1_000_000, stddev: z * clipNorm });
 */
export function gaussianVector(
  rng: RandomSource,
  opts: { length: number; stddev: number },
): Float64Array {
  checkLength(opts.length);
  checkStddev(opts.stddev);
  const out = new Float64Array(opts.length);
  if (opts.stddev > 0) fillGaussian(new UniformStream(rng, 4096), out, opts.stddev);
  return out;
}

/**
 * Adds N(0, stddev²) noise to every entry of `vector` in place and returns it: the noise step of
 * the central Gaussian mechanism on a clipped sum (σ = noise multiplier × clip norm).
 *
 * @example
 * addGaussianNoise(systemRandom(), sum, 1.1 * clipNorm);
 */
export function addGaussianNoise<V extends Float32Array | Float64Array>(
  rng: RandomSource,
  vector: V,
  stddev: number,
): V {
  if (!(vector instanceof Float32Array) && !(vector instanceof Float64Array)) {
    throw new ProtocolError('InvalidArgument', 'vector must be a Float32Array or Float64Array');
  }
  const noise = gaussianVector(rng, { length: vector.length, stddev });
  for (let i = 0; i < vector.length; i++) vector[i] = vector[i]! + noise[i]!;
  return vector;
}
