import { ProtocolError } from '../errors';

/**
 * Distributed DP under secure aggregation: every client adds its own Skellam share of the noise,
 * so the coordinator never sees a noiseless sum. Helpers to size the shares and to reserve headroom
 * in the integer ring so that the noisy sum does not wrap.
 */

function checkPositiveInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new ProtocolError('InvalidArgument', `${name} must be a positive integer`);
  }
  return v;
}

function checkPositive(name: string, v: unknown): number {
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) {
    throw new ProtocolError('InvalidArgument', `${name} must be a positive finite number`);
  }
  return v;
}

/** Result of {@link distributedSkellamMu}. */
export interface DistributedNoise {
  /** Poisson mean of each client's Skellam share (its variance is 2μ). */
  perClientMu: number;
  /** Noise variance of the sum when exactly `threshold` clients survive (≥ the target). */
  minTotalVariance: number;
  /** Noise variance when all `clients` survive: the utility cost of tolerating dropouts. */
  maxTotalVariance: number;
}

/**
 * Per-client Skellam μ such that ANY `threshold` or more survivors together carry at least
 * `targetVariance` of noise (in quantized integer units): 2μ·t ≥ σ², i.e. μ = σ²/(2t), rounded up
 * to the next double if needed. Trade-off: a lower threshold tolerates more dropouts but, when
 * everyone survives, the sum holds n/t times the noise the privacy target needs.
 *
 * @example
 * const { perClientMu } = distributedSkellamMu({ clients: 100, threshold: 60, targetVariance: 1e6 });
 * // perClientMu ≈ 8333.33: 60 survivors give variance 1e6, 100 give 1.67e6
 */
export function distributedSkellamMu(opts: {
  clients: number;
  threshold: number;
  targetVariance: number;
}): DistributedNoise {
  const n = checkPositiveInt('clients', opts.clients);
  const t = checkPositiveInt('threshold', opts.threshold);
  const v = checkPositive('targetVariance', opts.targetVariance);
  if (t > n) throw new ProtocolError('InvalidConfig', `threshold ${t} exceeds clients ${n}`);
  let mu = v / (2 * t);
  // Guard against the division rounding down: nudge μ up until t survivors reach the target.
  while (2 * mu * t < v) mu = nextUp(mu);
  return { perClientMu: mu, minTotalVariance: 2 * mu * t, maxTotalVariance: 2 * mu * n };
}

function nextUp(x: number): number {
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  buf.setBigUint64(0, buf.getBigUint64(0) + 1n);
  return buf.getFloat64(0);
}

/**
 * log of a Chernoff bound on the upper tail of S ~ Sk(m) (m = total Poisson mean):
 * P(S ≥ a) ≤ min_λ E[e^{λS}]·e^{−λa} = exp(2m(cosh λ − 1) − λa), minimised at λ = asinh(a/(2m)),
 * giving exp(2m(√(1 + y²) − 1) − a·asinh(y)) with y = a/(2m). The Skellam MGF is the product of
 * the two Poisson MGFs, exp(m(e^λ − 1))·exp(m(e^{−λ} − 1)). The tail is sub-Gaussian with variance
 * 2m near the centre and decays like e^{−a·log(a/m)} beyond, so this is tight to a polynomial factor.
 *
 * @example
 * Math.exp(skellamTailLogBound(50, 60)); // 2.5e-8 ≥ P(Sk(50) ≥ 60)
 */
export function skellamTailLogBound(totalMu: number, a: number): number {
  if (a <= 0) return 0;
  if (totalMu === 0) return -Infinity;
  const y = a / (2 * totalMu);
  return Math.min(0, 2 * totalMu * (Math.hypot(1, y) - 1) - a * Math.asinh(y));
}

/**
 * An integer B with P(|total noise| > B) ≤ failureProb, where the total noise is the sum of `n`
 * clients' Sk(perClientMu) shares, i.e. Sk(n·μ). Uses the two-sided Chernoff bound of
 * {@link skellamTailLogBound}: P(|S| > B) = 2·P(S ≥ B + 1) ≤ 2·exp(bound(B + 1)). The secure-
 * aggregation quantizer reserves B (plus n times the largest quantized input) inside the ring.
 *
 * @example
 * noiseHeadroom({ perClientMu: 8334, n: 100, failureProb: 1e-9 }); // 8449 (6.5 standard deviations)
 */
export function noiseHeadroom(opts: {
  perClientMu: number;
  n: number;
  failureProb: number;
}): number {
  const mu = opts.perClientMu;
  if (typeof mu !== 'number' || !(mu >= 0) || !Number.isFinite(mu)) {
    throw new ProtocolError('InvalidArgument', 'perClientMu must be a finite number ≥ 0');
  }
  const n = checkPositiveInt('n', opts.n);
  const p = opts.failureProb;
  if (typeof p !== 'number' || !(p > 0 && p < 1)) {
    throw new ProtocolError('InvalidArgument', 'failureProb must be in (0, 1)');
  }
  const m = n * mu;
  if (m === 0) return 0;
  const target = Math.log(p / 2);
  const ok = (b: number) => skellamTailLogBound(m, b + 1) <= target;
  let hi = Math.max(1, Math.ceil(Math.sqrt(2 * m)));
  while (!ok(hi)) hi *= 2;
  let lo = -1; // ok(lo) is false by convention: B = 0 is checked by the search
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (ok(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * Upper bound on the probability that any coordinate of Σ(inputs) + Sk(n·μ) leaves the signed
 * range [−2^(bits−1), 2^(bits−1) − 1] of the secure-aggregation ring, when each of at most `n`
 * clients' quantized coordinates satisfies |x| ≤ maxAbsInput. A coordinate wraps only if the noise
 * exceeds the room left by the inputs, h = 2^(bits−1) − n·maxAbsInput, so per coordinate
 * P ≤ 2·P(S ≥ h) (symmetry), and a union bound over `dimension` coordinates gives the total.
 *
 * @example
 * wrapProbability({ n: 100, maxAbsInput: 2 ** 20, perClientMu: 8334, dimension: 1e6 }); // 0 (< 1e-300)
 */
export function wrapProbability(opts: {
  n: number;
  maxAbsInput: number;
  perClientMu: number;
  dimension: number;
  bits?: number;
}): number {
  const n = checkPositiveInt('n', opts.n);
  const d = checkPositiveInt('dimension', opts.dimension);
  const bits = opts.bits ?? 32;
  if (!Number.isInteger(bits) || bits < 2 || bits > 53) {
    throw new ProtocolError('InvalidArgument', 'bits must be an integer in [2, 53]');
  }
  if (typeof opts.maxAbsInput !== 'number' || !(opts.maxAbsInput >= 0)) {
    throw new ProtocolError('InvalidArgument', 'maxAbsInput must be a number ≥ 0');
  }
  const mu = opts.perClientMu;
  if (typeof mu !== 'number' || !(mu >= 0) || !Number.isFinite(mu)) {
    throw new ProtocolError('InvalidArgument', 'perClientMu must be a finite number ≥ 0');
  }
  const room = 2 ** (bits - 1) - n * opts.maxAbsInput;
  if (room <= 0) return 1;
  const logP = Math.log(2 * d) + skellamTailLogBound(n * mu, room);
  return Math.min(1, Math.exp(logP));
}
