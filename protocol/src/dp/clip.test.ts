import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isProtocolError } from '../errors';
import { l2Clip, l2Norm } from './clip';

/** Norm in a different order with compensated summation, as an independent check. */
function kahanNorm(v: ArrayLike<number>): number {
  let s = 0;
  let c = 0;
  for (let i = v.length - 1; i >= 0; i--) {
    const y = v[i]! * v[i]! - c;
    const t = s + y;
    c = t - s - y;
    s = t;
  }
  return Math.sqrt(s);
}

describe('l2Clip', () => {
  it('clips to norm ≤ C, keeps the direction and leaves the input alone (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 300 }),
        fc.double({ min: 1e-6, max: 1e3, noNaN: true }),
        fc.boolean(),
        (values, c, f32) => {
          const v = f32 ? Float32Array.from(values) : Float64Array.from(values);
          const before = v.slice();
          const { clipped, norm, scale } = l2Clip(v, c);
          expect(clipped).toBeInstanceOf(f32 ? Float32Array : Float64Array);
          expect(v).toEqual(before);
          expect(kahanNorm(clipped)).toBeLessThanOrEqual(c);
          const ref = kahanNorm(v); // underflows below ~1e-154, where only l2Norm rescales
          if (ref > 1e-150) expect(Math.abs(norm - ref)).toBeLessThanOrEqual(1e-12 * norm);
          else expect(norm).toBeLessThan(1e-140);
          if (norm <= c) {
            expect(clipped).toEqual(v);
            expect(scale).toBe(1);
          } else {
            expect(kahanNorm(clipped)).toBeGreaterThan(c * (1 - 1e-6));
            for (let i = 0; i < v.length; i++) {
              // Relative 1e-6 (float32 rounding), plus one float32 subnormal step for tiny entries.
              const tol = Math.abs(v[i]!) * scale * 1e-6 + (f32 ? 1.5e-45 : 0);
              expect(Math.abs(clipped[i]! - v[i]! * scale)).toBeLessThanOrEqual(tol);
            }
          }
        },
      ),
      { numRuns: 300, seed: 3 },
    );
  });

  it('handles a worked example and extreme magnitudes', () => {
    const { clipped, norm } = l2Clip(new Float64Array([3, 4]), 1);
    expect(norm).toBe(5);
    expect(clipped[0]).toBeCloseTo(0.6, 12);
    expect(clipped[1]).toBeCloseTo(0.8, 12);
    expect(l2Norm(new Float64Array([1e200, 1e200]))).toBeCloseTo(Math.SQRT2 * 1e200, -186);
    expect(l2Norm(new Float64Array([3e-300, 4e-300]))).toBeCloseTo(5e-300, 310);
    expect(l2Norm(new Float32Array(0))).toBe(0);
  });

  it('rejects NaN/Infinity and bad clip norms', () => {
    try {
      l2Clip(new Float32Array([1, NaN]), 1);
      expect.unreachable();
    } catch (e) {
      expect(isProtocolError(e, 'InvalidInput')).toBe(true);
    }
    expect(() => l2Clip(new Float64Array([Infinity]), 1)).toThrow(/NaN or Infinity/);
    expect(() => l2Clip(new Float64Array([1]), 0)).toThrow(/clipNorm/);
    expect(() => l2Clip([1, 2] as unknown as Float64Array, 1)).toThrow(/Float32Array/);
  });
});
