import { ProtocolError } from '../errors';
import type { GaussianEvent } from './events';
import { composeBoth } from './pld-fft';
import type { ComposedPld } from './pld-fft';
import { discretizeSampledGaussian, pldSupport } from './pld-gaussian';
import { rdpEpsilon } from './rdp';

/**
 * The PLD accountant: compose discretised privacy loss distributions by FFT (Koskela, Jälkö &
 * Honkela 2020, "Computing Tight Differential Privacy Guarantees Using FFT", AISTATS) and read off
 * δ(ε) = P[L = ∞] + E[(1 − e^{ε−L})₊] exactly on the grid (the hockey-stick divergence; Sommer,
 * Meiser & Mohammadi 2019; Google's dp_accounting PLD). Both add/remove directions are composed,
 * and the larger ε of the two is reported.
 *
 * Every approximation is pessimistic, so the reported ε never falls below the true one:
 * - losses are rounded up to the grid h·ℤ (see pld-gaussian.ts); the resulting bias is ≤ T·h, and
 *   the default h = 0.0025·ε_RDP/(T/2 + 2√T + 1) keeps it near 0.25% of ε;
 * - the T-fold sum is computed as a cyclic convolution on a window [b, a] chosen with Chernoff
 *   bounds P(S ≥ a) ≤ e^{−λa}·Π M(λ)^T; mass outside the window wraps around and can only ADD to the
 *   computed masses, and the mass beyond a (bounded by the same Chernoff bound) is added to P[L = ∞];
 * - tiny negative values left by FFT round-off are clamped to 0.
 */

const MAX_STEP_LEN = 2 ** 21;

/**
 * Smallest ε ≥ 0 with δ(ε) ≤ delta on a composed PLD, exact on the grid. Scans buckets from the
 * top: on ε ∈ [(s−1)h, sh) only losses with index ≥ s count, and
 * δ(ε) = P[∞] + Σ_{s'≥s} p_{s'} − e^{ε−sh}·R_s with R_s = Σ_{s'≥s} p_{s'}·e^{−(s'−s)h}
 * (kept relative to s so nothing overflows).
 */
function epsilonForDelta(p: ComposedPld, delta: number): number {
  if (p.infinityMass >= delta) return Infinity;
  const decay = Math.exp(-p.h);
  let massAbove = 0;
  let rel = 0;
  for (let i = p.probs.length - 1; i >= 0; i--) {
    const s = p.lowIndex + i;
    if (s < 1) break;
    massAbove += p.probs[i]!;
    rel = p.probs[i]! + decay * rel;
    // δ at the left end ε = (s−1)h of this interval:
    if (p.infinityMass + massAbove - decay * rel > delta) {
      const eps = s * p.h + Math.log((p.infinityMass + massAbove - delta) / rel);
      return Math.min(Math.max(eps, (s - 1) * p.h), s * p.h);
    }
  }
  return 0;
}

/** δ(ε) of a composed PLD. */
function deltaForEpsilon(p: ComposedPld, eps: number): number {
  let d = p.infinityMass;
  for (let i = 0; i < p.probs.length; i++) {
    const l = (p.lowIndex + i) * p.h;
    if (l > eps) d += p.probs[i]! * -Math.expm1(eps - l);
  }
  return Math.min(1, d);
}

/** Options shared by the PLD queries. */
export interface PldOptions {
  /** Gaussian events to compose (Skellam is accounted by RDP only). */
  events: readonly GaussianEvent[];
  /**
   * Loss discretisation interval h. Default: 0.0025·ε_ref/(T/2 + 2√T + 1) (ε_ref from RDP, T the
   * total steps), so the pessimistic rounding costs about 0.25% of ε; enlarged automatically when
   * the FFT would exceed 2^21 points (still an upper bound, just looser).
   */
  interval?: number;
}

/** What a PLD query reports besides its answer: the grid actually used. */
export interface PldDetails {
  interval: number;
  fftSize: number;
}

function merge(events: readonly GaussianEvent[]): { q: number; sigma: number; steps: number }[] {
  const byKey = new Map<string, { q: number; sigma: number; steps: number }>();
  for (const e of events) {
    const key = `${e.samplingRate}/${e.noiseMultiplier}`;
    const cur = byKey.get(key);
    if (cur) cur.steps += e.steps;
    else byKey.set(key, { q: e.samplingRate, sigma: e.noiseMultiplier, steps: e.steps });
  }
  return [...byKey.values()];
}

function compose(events: readonly GaussianEvent[], epsRef: number, interval?: number) {
  const merged = merge(events);
  if (merged.length === 0) {
    throw new ProtocolError('InvalidArgument', 'events must not be empty');
  }
  const totalSteps = merged.reduce((s, m) => s + m.steps, 0);
  // Rounding up costs ≈ h per step on average h/2 plus fluctuations: aim for 0.25% of ε_ref.
  const rounding = totalSteps / 2 + 2 * Math.sqrt(totalSteps) + 1;
  let h = interval ?? (epsRef > 0 && Number.isFinite(epsRef) ? (0.0025 * epsRef) / rounding : 1e-3);
  if (!(h > 0) || !Number.isFinite(h)) {
    throw new ProtocolError('InvalidArgument', 'interval must be a positive finite number');
  }
  h = Math.min(Math.max(h, 1e-8), 0.1);
  for (const m of merged) {
    for (const dir of ['remove', 'add'] as const) {
      const { lo, hi } = pldSupport(m.q, m.sigma, dir);
      h = Math.max(h, (hi - lo) / MAX_STEP_LEN);
    }
  }
  for (let attempt = 0; attempt < 10; attempt++) {
    const parts = merged.map((m) => {
      const one = (direction: 'remove' | 'add') =>
        discretizeSampledGaussian({
          samplingRate: m.q,
          noiseMultiplier: m.sigma,
          direction,
          interval: h,
        });
      return { remove: one('remove'), add: one('add'), steps: m.steps };
    });
    const composed = composeBoth(parts, h);
    if (!('tooWide' in composed)) return { ...composed, fftSize: composed.remove.probs.length };
    h *= Math.max(1.1, composed.tooWide * 1.05);
  }
  throw new ProtocolError(
    'NumericalFailure',
    'PLD grid could not be fitted into the FFT size limit',
  );
}

/**
 * (ε, δ) of a composition of Poisson-subsampled Gaussian events by the PLD accountant: the worse
 * of the add and remove directions, never below the true ε (pessimistic discretisation and
 * truncation). Tighter than RDP for many small-q steps: 1.833 vs 2.101 for σ=1, q=0.01, T=1000;
 * 0.168 vs 0.482 for σ=1, q=1e-4, T=10⁵.
 *
 * @example
 * pldEpsilon({ events: [{ mechanism: 'gaussian', noiseMultiplier: nm, samplingRate: 0.01, steps: 1000 }], delta: 1e-5 });
 * // { epsilon: 1.8329, interval: 9.3e-6, fftSize: 2^20 } (the exact value is ≈1.828)
 */
export function pldEpsilon(opts: PldOptions & { delta: number }): { epsilon: number } & PldDetails {
  const { delta } = opts;
  if (typeof delta !== 'number' || !(delta > 0 && delta < 1)) {
    throw new ProtocolError('InvalidArgument', 'delta must be in (0, 1)');
  }
  const epsRef =
    opts.interval === undefined ? rdpEpsilon({ events: opts.events, delta }).epsilon : 1;
  const c = compose(opts.events, epsRef, opts.interval);
  const epsilon = Math.max(epsilonForDelta(c.remove, delta), epsilonForDelta(c.add, delta));
  return { epsilon, interval: c.remove.h, fftSize: c.fftSize };
}

/**
 * δ(ε) of a composition of Poisson-subsampled Gaussian events by the PLD accountant (the larger
 * of the two directions; an upper bound on the true δ).
 *
 * @example
 * pldDelta({ events: [{ mechanism: 'gaussian', noiseMultiplier: nm, samplingRate: 1, steps: 1 }], epsilon: 1 });
 */
export function pldDelta(opts: PldOptions & { epsilon: number }): { delta: number } & PldDetails {
  const { epsilon } = opts;
  if (typeof epsilon !== 'number' || !(epsilon >= 0) || !Number.isFinite(epsilon)) {
    throw new ProtocolError('InvalidArgument', 'epsilon must be a finite number ≥ 0');
  }
  const c = compose(opts.events, Math.max(epsilon, 0.1), opts.interval);
  const delta = Math.max(deltaForEpsilon(c.remove, epsilon), deltaForEpsilon(c.add, epsilon));
  return { delta, interval: c.remove.h, fftSize: c.fftSize };
}
