import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fedAdagrad, fedAdam, fedYogi } from './adaptive';
import { decodeOptimizerState, encodeOptimizerState } from './state';
import { plaintextAggregate } from './testkit';
import type { AdaptiveKind, AdaptiveState, ServerOptimizer } from './types';

/**
 * Reference implementation of Reddi et al. 2021, "Adaptive Federated Optimization", Algorithm 2,
 * written from the paper one scalar at a time, deliberately naive (arrays of numbers, no typed
 * arrays, no shared code with adaptive.ts):
 *
 *   line 1:   m₋₁ = 0, v₋₁ = τ²
 *   line 10:  Δ_t = weighted mean of the members' updates
 *   line 11:  m_t = β₁ m_{t−1} + (1 − β₁) Δ_t
 *   line 12:  v_t = v_{t−1} + Δ_t²                                (FedAdagrad)
 *   line 13:  v_t = v_{t−1} − (1 − β₂) Δ_t² sign(v_{t−1} − Δ_t²)  (FedYogi)
 *   line 14:  v_t = β₂ v_{t−1} + (1 − β₂) Δ_t²                    (FedAdam)
 *   line 15:  x_{t+1} = x_t + η m_t / (√v_t + τ)
 *
 * The global model is float32 between rounds, so x is rounded with Math.fround after each step.
 */
interface Params {
  eta: number;
  beta1: number;
  beta2: number;
  tau: number;
}
interface RefState {
  x: number[];
  m: number[];
  v: number[];
}

function referenceRound(
  kind: AdaptiveKind,
  p: Params,
  s: RefState,
  updates: number[][],
  weights: number[],
): RefState {
  const x: number[] = [];
  const m: number[] = [];
  const v: number[] = [];
  let W = 0;
  for (const w of weights) W += w;
  for (let i = 0; i < s.x.length; i++) {
    let delta = 0;
    for (let k = 0; k < updates.length; k++) delta += weights[k]! * updates[k]![i]!;
    delta = delta / W;
    m[i] = p.beta1 * s.m[i]! + (1 - p.beta1) * delta;
    if (kind === 'fedadagrad') {
      v[i] = s.v[i]! + delta * delta;
    } else if (kind === 'fedyogi') {
      v[i] = s.v[i]! - (1 - p.beta2) * delta * delta * Math.sign(s.v[i]! - delta * delta);
    } else {
      v[i] = p.beta2 * s.v[i]! + (1 - p.beta2) * delta * delta;
    }
    x[i] = Math.fround(s.x[i]! + (p.eta * m[i]!) / (Math.sqrt(v[i]!) + p.tau));
  }
  return { x, m, v };
}

function build(kind: AdaptiveKind, p: Params): ServerOptimizer {
  switch (kind) {
    case 'fedadagrad':
      return fedAdagrad({ eta: p.eta, beta1: p.beta1, tau: p.tau });
    case 'fedadam':
      return fedAdam(p);
    case 'fedyogi':
      return fedYogi(p);
  }
}

function close(actual: ArrayLike<number>, expected: readonly number[], rel: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const tol = rel * Math.max(1e-30, Math.abs(expected[i]!));
    expect(Math.abs(actual[i]! - expected[i]!), `index ${i}`).toBeLessThanOrEqual(tol);
  }
}

/**
 * Runs two rounds through the implementation — passing the state through encode/decode in
 * between, as the coordinator does — and through the reference, and compares weights and moments.
 */
function twoRounds(
  kind: AdaptiveKind,
  p: Params,
  x0: number[],
  rounds: { updates: number[][]; weights: number[] }[],
): void {
  const opt = build(kind, p);
  let ref: RefState = { x: x0.map(Math.fround), m: x0.map(() => 0), v: x0.map(() => p.tau ** 2) };
  let global: Float32Array = Float32Array.from(x0);
  let bytes: Uint8Array | undefined;
  for (const r of rounds) {
    const state = bytes ? decodeOptimizerState(bytes, kind) : undefined;
    const out = opt.step(global, plaintextAggregate(r.updates, r.weights), state);
    ref = referenceRound(kind, p, ref, r.updates, r.weights);
    const s = out.state as AdaptiveState;
    expect(s.kind).toBe(kind);
    // Weights: both sides round the same double to float32; allow one float32 ulp.
    close(out.weights, ref.x, 2 ** -23);
    close(s.m, ref.m, 1e-12);
    close(s.v, ref.v, 1e-12);
    bytes = encodeOptimizerState(s);
    expect(decodeOptimizerState(bytes)).toEqual(s);
    global = out.weights;
  }
  expect((decodeOptimizerState(bytes!) as AdaptiveState).round).toBe(rounds.length);
}

const kinds: AdaptiveKind[] = ['fedadagrad', 'fedadam', 'fedyogi'];
const paper: Params = { eta: 1e-2, beta1: 0.9, beta2: 0.99, tau: 1e-3 };

describe('adaptive server optimizers match Algorithm 2 of Reddi et al. 2021', () => {
  it('FedAdam, one coordinate by hand', () => {
    // Δ = 0.1, η = 0.01, β₁ = 0.9, β₂ = 0.99, τ = 0.001, x = 0.5:
    //   m = 0.1·0.1 = 0.01;  v = 0.99·10⁻⁶ + 0.01·0.01 = 1.0099·10⁻⁴;  √v = 0.0100494…
    //   x' = 0.5 + 0.01·0.01/(0.0100494… + 0.001) = 0.50905028…
    const { weights, state } = fedAdam(paper).step(
      Float32Array.of(0.5),
      { sum: Float64Array.of(0.1), weight: 1 },
      undefined,
    );
    expect(weights[0]).toBe(Math.fround(0.5090502831185222));
    expect((state as AdaptiveState).m[0]).toBeCloseTo(0.01, 15);
    expect((state as AdaptiveState).v[0]).toBeCloseTo(1.0099e-4, 15);
  });

  it.each(kinds)('%s: two rounds over a few coordinates, state through bytes', (kind) => {
    // Coordinate 2 is large then tiny, so FedYogi's sign(v − Δ²) flips between the rounds; a
    // zero update (coordinate 3) must still move x by the momentum alone in round 2.
    twoRounds(
      kind,
      kind === 'fedadagrad' ? { ...paper, beta1: 0 } : paper,
      [0.5, -1, 0.25, 2],
      [
        {
          updates: [
            [0.1, -0.2, 0.3, 0.05],
            [0.3, 0.1, 0.5, -0.05],
          ],
          weights: [1, 3],
        },
        {
          updates: [
            [-0.05, 0.2, 1e-4, 0],
            [0.02, 0.1, -2e-4, 0],
          ],
          weights: [2, 2],
        },
      ],
    );
  });

  it.each(kinds)('%s: random rounds agree with the reference (fast-check)', (kind) => {
    const value = fc.oneof(
      fc.double({ min: -1, max: 1, noNaN: true }),
      fc.double({ min: -1e-3, max: 1e-3, noNaN: true }),
      fc.constant(0),
    );
    const arb = fc.integer({ min: 1, max: 6 }).chain((dim) => {
      const vec = fc.array(value, { minLength: dim, maxLength: dim });
      const rnd = fc.integer({ min: 1, max: 4 }).chain((n) =>
        fc.record({
          updates: fc.array(vec, { minLength: n, maxLength: n }),
          weights: fc.array(fc.double({ min: 0.5, max: 5, noNaN: true }), {
            minLength: n,
            maxLength: n,
          }),
        }),
      );
      return fc.record({
        x0: fc.array(fc.double({ min: -2, max: 2, noNaN: true }), {
          minLength: dim,
          maxLength: dim,
        }),
        rounds: fc.array(rnd, { minLength: 2, maxLength: 2 }),
        p: fc.record({
          eta: fc.double({ min: 1e-3, max: 1, noNaN: true }),
          beta1: fc.double({ min: 0, max: 0.99, noNaN: true }),
          beta2: fc.double({ min: 0, max: 0.999, noNaN: true }),
          tau: fc.double({ min: 1e-6, max: 1e-1, noNaN: true }),
        }),
      });
    });
    fc.assert(
      fc.property(arb, ({ x0, rounds, p }) => twoRounds(kind, p, x0, rounds)),
      { numRuns: 100 },
    );
  });

  it('FedAdam and FedYogi differ where the paper says they do (the reference can tell)', () => {
    // Same first round; in round 2 a tiny update: Adam's v decays geometrically, Yogi's barely.
    const r1 = { sum: Float64Array.of(0.5), weight: 1 };
    const r2 = { sum: Float64Array.of(1e-4), weight: 1 };
    const g = Float32Array.of(0);
    const adam = fedAdam(paper);
    const yogi = fedYogi(paper);
    const a1 = adam.step(g, r1, undefined);
    const y1 = yogi.step(g, r1, undefined);
    // v after round 1: Adam β₂τ² + (1 − β₂)Δ², Yogi τ² + (1 − β₂)Δ² — equal up to (1 − β₂)τ².
    const va = (a1.state as AdaptiveState).v[0]!;
    const vy = (y1.state as AdaptiveState).v[0]!;
    expect(Math.abs(va - vy)).toBeCloseTo((1 - paper.beta2) * paper.tau ** 2, 15);
    const a2 = adam.step(a1.weights, r2, a1.state).state as AdaptiveState;
    const y2 = yogi.step(y1.weights, r2, y1.state).state as AdaptiveState;
    expect(a2.v[0]! / va).toBeCloseTo(paper.beta2, 6); // Adam: × β₂ (+ a negligible Δ² term)
    expect(y2.v[0]! / vy).toBeCloseTo(1, 6); // Yogi: − (1 − β₂)·10⁻⁸ only
  });
});
