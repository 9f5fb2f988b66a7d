import { randomBelow, randomUnit } from '@coopfl/protocol';
import type { RandomSource } from '@coopfl/protocol';

/**
 * Small samplers on top of the protocol's seeded {@link RandomSource}, for the synthetic
 * cooperative generator. Every draw consumes the stream in a fixed order, so a seed reproduces the
 * data byte for byte. Never `Math.random`.
 *
 * @example
 * await cryptoReady();
 * const rng = seededRandom(7);
 * const mix = dirichlet(rng, [0.5, 0.5, 0.5]); // a peaked category mix
 * const orders = poisson(rng, 3.2);
 */

/** A uniform double in [a, b). */
export function uniform(rng: RandomSource, a = 0, b = 1): number {
  return a + (b - a) * randomUnit(rng);
}

/** An integer in [a, b] inclusive. */
export function integer(rng: RandomSource, a: number, b: number): number {
  return a + randomBelow(rng, b - a + 1);
}

/** True with probability p. */
export function bernoulli(rng: RandomSource, p: number): boolean {
  return randomUnit(rng) < p;
}

/** A standard normal by Box–Muller (one value per two uniforms; no cached state). */
export function normal(rng: RandomSource, mean = 0, sd = 1): number {
  const u1 = 1 - randomUnit(rng); // (0, 1]
  const u2 = randomUnit(rng);
  return mean + sd * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** exp(N(mu, sigma²)). */
export function logNormal(rng: RandomSource, mu: number, sigma: number): number {
  return Math.exp(normal(rng, mu, sigma));
}

/** An exponential with the given rate. */
export function exponential(rng: RandomSource, rate: number): number {
  return -Math.log(1 - randomUnit(rng)) / rate;
}

function logFactorial(k: number): number {
  if (k < 2) return 0;
  if (k < 20) {
    let s = 0;
    for (let i = 2; i <= k; i++) s += Math.log(i);
    return s;
  }
  // Stirling series, accurate to ~1e-10 for k ≥ 20.
  return (
    (k + 0.5) * Math.log(k) - k + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * k) - 1 / (360 * k ** 3)
  );
}

/**
 * A Poisson draw: Knuth's product method for λ < 10, Hörmann's PTRS (transformed rejection with
 * squeeze, 1993) above, so the cost stays bounded for large rates.
 */
export function poisson(rng: RandomSource, lambda: number): number {
  if (!(lambda > 0)) return 0;
  if (lambda < 10) {
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = randomUnit(rng);
    while (p > limit) {
      k++;
      p *= randomUnit(rng);
    }
    return k;
  }
  const slam = Math.sqrt(lambda);
  const loglam = Math.log(lambda);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const u = randomUnit(rng) - 0.5;
    const v = randomUnit(rng);
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + lambda + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (
      Math.log(v) + Math.log(invalpha) - Math.log(a / (us * us) + b) <=
      -lambda + k * loglam - logFactorial(k)
    ) {
      return k;
    }
  }
}

/**
 * A gamma(shape, scale) draw by Marsaglia & Tsang (2000); shape < 1 uses the boost
 * gamma(a) = gamma(a + 1) · U^(1/a).
 */
export function gamma(rng: RandomSource, shape: number, scale = 1): number {
  if (shape < 1) {
    const u = 1 - randomUnit(rng);
    return gamma(rng, shape + 1, scale) * u ** (1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - randomUnit(rng);
    if (u < 1 - 0.0331 * x ** 4) return d * v * scale;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v * scale;
  }
}

/** A Dirichlet draw: normalised gammas. Small α gives peaked vectors, large α near-uniform ones. */
export function dirichlet(rng: RandomSource, alpha: readonly number[]): number[] {
  const g = alpha.map((a) => Math.max(gamma(rng, a), 1e-300));
  const sum = g.reduce((s, x) => s + x, 0);
  return g.map((x) => x / sum);
}

/** A Pareto (power-law) draw with tail index α and minimum xmin: P(X > x) = (xmin / x)^α. */
export function pareto(rng: RandomSource, alpha: number, xmin = 1): number {
  return xmin / (1 - randomUnit(rng)) ** (1 / alpha);
}

/** Zipf weights 1/rank^s for ranks 1..n (unnormalised). */
export function zipfWeights(n: number, s: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = 1 / (i + 1) ** s;
  return w;
}

/** Cumulative sums of weights, in place into `out` (allocated when omitted); returns `out`. */
export function cumulative(weights: ArrayLike<number>, out?: Float64Array): Float64Array {
  const c = out ?? new Float64Array(weights.length);
  let s = 0;
  for (let i = 0; i < weights.length; i++) {
    s += weights[i] ?? 0;
    c[i] = s;
  }
  return c;
}

/** An index drawn in proportion to weights given as cumulative sums (binary search). */
export function pickCumulative(rng: RandomSource, cum: Float64Array, n = cum.length): number {
  const total = cum[n - 1] ?? 0;
  const x = randomUnit(rng) * total;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((cum[mid] ?? 0) > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** An index drawn in proportion to (small) weights by a linear scan. */
export function pickWeighted(rng: RandomSource, weights: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < weights.length; i++) total += weights[i] ?? 0;
  let x = randomUnit(rng) * total;
  for (let i = 0; i < weights.length; i++) {
    x -= weights[i] ?? 0;
    if (x < 0) return i;
  }
  return weights.length - 1;
}

/** A uniformly chosen element. */
export function pick<T>(rng: RandomSource, items: readonly T[]): T {
  const item = items[randomBelow(rng, items.length)];
  if (item === undefined) throw new RangeError('pick: items must not be empty');
  return item;
}

/** Fisher–Yates shuffle in place; returns the array. */
export function shuffle<T>(rng: RandomSource, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomBelow(rng, i + 1);
    const t = items[i]!;
    items[i] = items[j]!;
    items[j] = t;
  }
  return items;
}
