import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fedAvg } from './fedavg';
import { plaintextAggregate } from './testkit';

const f32 = (min: number, max: number) =>
  fc.float({ min: Math.fround(min), max: Math.fround(max), noNaN: true });

/** n members' updates and weights, plus the global model, all of one dimension. */
const round = fc
  .record({ n: fc.integer({ min: 1, max: 8 }), dim: fc.integer({ min: 1, max: 16 }) })
  .chain(({ n, dim }) =>
    fc.record({
      global: fc.array(f32(-4, 4), { minLength: dim, maxLength: dim }),
      updates: fc.array(fc.array(f32(-1, 1), { minLength: dim, maxLength: dim }), {
        minLength: n,
        maxLength: n,
      }),
      weights: fc.array(fc.double({ min: 0.1, max: 10, noNaN: true }), {
        minLength: n,
        maxLength: n,
      }),
    }),
  );

describe('fedAvg', () => {
  it('equals the plaintext weighted mean of the local models (global + Δ_u), within 1e-6', () => {
    fc.assert(
      fc.property(round, ({ global, updates, weights }) => {
        const g = Float32Array.from(global);
        // What averaging the members' local models w_u = w_global + Δ_u would give, written
        // directly from the definition (McMahan et al. 2017): Σ w_u·(g + Δ_u) / Σ w_u.
        const W = weights.reduce((a, b) => a + b, 0);
        const expected = global.map(
          (gi, i) => updates.reduce((s, u, k) => s + weights[k]! * (gi + u[i]!), 0) / W,
        );
        const { weights: out } = fedAvg().step(g, plaintextAggregate(updates, weights), undefined);
        expect(out).toBeInstanceOf(Float32Array);
        expect(out.length).toBe(global.length);
        for (let i = 0; i < out.length; i++) {
          expect(Math.abs(out[i]! - expected[i]!)).toBeLessThanOrEqual(1e-6);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('scales the mean update by the server learning rate η', () => {
    const g = Float32Array.of(1, -2, 0.5);
    // Dyadic values, so every step is exact: Δ̄ = (0.25, 0.5, −0.75), w + 0.5·Δ̄.
    const agg = plaintextAggregate([Float32Array.of(0.25, 0.5, -0.75)], [2]);
    const { weights } = fedAvg({ eta: 0.5 }).step(g, agg, undefined);
    expect([...weights]).toEqual([1.125, -1.75, 0.125]);
  });

  it('does not modify its inputs and counts rounds in its state', () => {
    const g = Float32Array.of(1, 2);
    const agg = plaintextAggregate([Float32Array.of(1, 1)]);
    const sum = agg.sum.slice();
    const opt = fedAvg();
    const first = opt.step(g, agg, undefined);
    const second = opt.step(first.weights, agg, first.state);
    expect([...g]).toEqual([1, 2]);
    expect([...agg.sum]).toEqual([...sum]);
    expect(first.state).toEqual({ kind: 'fedavg', round: 1, dim: 2 });
    expect(second.state).toEqual({ kind: 'fedavg', round: 2, dim: 2 });
    expect([...second.weights]).toEqual([3, 4]);
  });
});
