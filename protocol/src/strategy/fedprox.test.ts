import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fedProxConfig, proximalGradient } from './fedprox';
import { expectProtocolError } from './testkit';

const vec = (dim: number) =>
  fc
    .array(fc.float({ min: -10, max: 10, noNaN: true }), { minLength: dim, maxLength: dim })
    .map((a) => Float32Array.from(a));

describe('FedProx (Li et al. 2020)', () => {
  it('proximalGradient is the gradient of μ/2·‖w − w_global‖² (central differences)', () => {
    const arb = fc
      .integer({ min: 1, max: 12 })
      .chain((d) =>
        fc.record({ w: vec(d), g: vec(d), mu: fc.double({ min: 0, max: 10, noNaN: true }) }),
      );
    fc.assert(
      fc.property(arb, ({ w, g, mu }) => {
        const prox = proximalGradient(w, g, mu);
        const f = (x: number[]) => (mu / 2) * x.reduce((s, xi, i) => s + (xi - g[i]!) ** 2, 0);
        const h = 1e-3;
        for (let i = 0; i < w.length; i++) {
          const plus = [...w];
          const minus = [...w];
          plus[i]! += h;
          minus[i]! -= h;
          // The objective is quadratic, so the central difference is exact up to rounding.
          const numeric = (f(plus) - f(minus)) / (2 * h);
          expect(Math.abs(prox[i]! - numeric)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(numeric)));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('pulls towards the global model, vanishes at it and for μ = 0', () => {
    const g = Float32Array.of(1, -1, 0);
    expect([...proximalGradient(Float32Array.of(2, -3, 0), g, 0.5)]).toEqual([0.5, -1, 0]);
    expect([...proximalGradient(g, g, 10)]).toEqual([0, 0, 0]);
    expect([...proximalGradient(Float32Array.of(5, 5, 5), g, 0)]).toEqual([0, 0, 0]);
  });

  it('fedProxConfig accepts μ ≥ 0 only, and no unknown keys', () => {
    expect(fedProxConfig.parse({ mu: 0.01 })).toEqual({ mu: 0.01 });
    expect(fedProxConfig.parse({ mu: 0 })).toEqual({ mu: 0 });
    for (const bad of [{ mu: -0.1 }, { mu: NaN }, { mu: Infinity }, {}, { mu: 1, epochs: 2 }]) {
      expect(fedProxConfig.safeParse(bad).success).toBe(false);
    }
  });

  it('rejects bad inputs with named errors', () => {
    const a = Float32Array.of(1, 2);
    expectProtocolError(() => proximalGradient(a, Float32Array.of(1), 1), 'WrongLength');
    expectProtocolError(() => proximalGradient(a, a, -1), 'InvalidArgument', /mu/);
    expectProtocolError(
      () => proximalGradient(Float32Array.of(1, NaN), a, 1),
      'InvalidInput',
      /w\[1\]/,
    );
    expectProtocolError(
      () => proximalGradient(a, Float32Array.of(Infinity, 0), 1),
      'InvalidInput',
      /wGlobal\[0\]/,
    );
    expectProtocolError(
      () => proximalGradient([1, 2] as unknown as Float32Array, a, 1),
      'InvalidArgument',
    );
  });
});
