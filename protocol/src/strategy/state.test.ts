import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fedAdam, fedYogi } from './adaptive';
import { createOptimizer } from './create';
import { fedAvg } from './fedavg';
import { decodeOptimizerState, encodeOptimizerState } from './state';
import { expectProtocolError } from './testkit';
import type { OptimizerState } from './types';

const adaptiveKind = fc.constantFrom('fedadagrad', 'fedadam', 'fedyogi' as const);

const stateArb: fc.Arbitrary<OptimizerState> = fc.oneof(
  fc.record({
    kind: fc.constant('fedavg' as const),
    round: fc.nat(),
    dim: fc.integer({ min: 0, max: 1000 }),
  }),
  fc.integer({ min: 0, max: 40 }).chain((dim) =>
    fc.record({
      kind: adaptiveKind,
      round: fc.nat(),
      dim: fc.constant(dim),
      m: fc
        .array(fc.double({ noNaN: true, noDefaultInfinity: true }), {
          minLength: dim,
          maxLength: dim,
        })
        .map((a) => Float64Array.from(a)),
      v: fc
        .array(fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }), {
          minLength: dim,
          maxLength: dim,
        })
        .map((a) => Float64Array.from(a)),
    }),
  ),
);

describe('optimizer state bytes', () => {
  it('round-trip every well-formed state exactly (fast-check)', () => {
    fc.assert(
      fc.property(stateArb, (state) => {
        const bytes = encodeOptimizerState(state);
        const back = decodeOptimizerState(bytes, state.kind);
        expect(back).toEqual(state);
        // −0 and subnormals survive too (toEqual treats them by Object.is).
        expect(encodeOptimizerState(back)).toEqual(bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('decode a state from a byte view at an odd offset (e.g. a slice of a database buffer)', () => {
    const { state } = fedAdam().step(
      Float32Array.of(1, 2, 3),
      {
        sum: Float64Array.of(0.1, 0.2, 0.3),
        weight: 1,
      },
      undefined,
    );
    const bytes = encodeOptimizerState(state);
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes, 3);
    expect(decodeOptimizerState(padded.subarray(3))).toEqual(state);
  });

  it('a resumed optimizer continues exactly as one that never stopped', () => {
    const opt = createOptimizer({ kind: 'fedyogi' });
    const g = Float32Array.of(0.5, -0.5);
    const a1 = { sum: Float64Array.of(0.3, -0.1), weight: 3 };
    const a2 = { sum: Float64Array.of(-0.2, 0.4), weight: 2 };
    const s1 = opt.step(g, a1, undefined);
    const direct = opt.step(s1.weights, a2, s1.state);
    const resumed = createOptimizer({ kind: 'fedyogi' }).step(
      s1.weights,
      a2,
      decodeOptimizerState(encodeOptimizerState(s1.state)),
    );
    expect(resumed).toEqual(direct);
  });

  it("refuses another optimizer's state: InvalidArgument, when decoding and when stepping", () => {
    const g = Float32Array.of(1, 2);
    const agg = { sum: Float64Array.of(0.1, 0.1), weight: 1 };
    const adamState = fedAdam().step(g, agg, undefined).state;
    const bytes = encodeOptimizerState(adamState);
    expectProtocolError(
      () => decodeOptimizerState(bytes, 'fedyogi'),
      'InvalidArgument',
      /state is for 'fedadam', this optimizer is 'fedyogi'/,
    );
    expectProtocolError(
      () => fedYogi().step(g, agg, adamState),
      'InvalidArgument',
      /state is for 'fedadam'/,
    );
    expectProtocolError(() => fedAvg().step(g, agg, adamState), 'InvalidArgument', /'fedavg'/);
    const avgState = fedAvg().step(g, agg, undefined).state;
    expectProtocolError(() => fedAdam().step(g, agg, avgState), 'InvalidArgument', /'fedavg'/);
  });

  it('refuses a state of another dimension: WrongLength', () => {
    const state = fedAdam().step(
      Float32Array.of(1, 2),
      {
        sum: Float64Array.of(0, 0),
        weight: 1,
      },
      undefined,
    ).state;
    expectProtocolError(
      () =>
        fedAdam().step(Float32Array.of(1, 2, 3), { sum: new Float64Array(3), weight: 1 }, state),
      'WrongLength',
      /dimension 2/,
    );
  });

  describe('malformed bytes are MalformedMessage', () => {
    const good = encodeOptimizerState({
      kind: 'fedadam',
      round: 7,
      dim: 2,
      m: Float64Array.of(0.1, -0.2),
      v: Float64Array.of(0.01, 0.04),
    });
    const patched = (f: (b: Uint8Array, v: DataView) => void): Uint8Array => {
      const b = good.slice();
      f(b, new DataView(b.buffer));
      return b;
    };
    const cases: [string, Uint8Array, RegExp][] = [
      ['empty', new Uint8Array(0), /bad magic or too short/],
      ['bad magic', patched((b) => (b[0] = 0)), /bad magic/],
      ['unknown version', patched((b) => (b[4] = 2)), /version 2 is not supported/],
      ['unknown kind', patched((b) => (b[5] = 9)), /unknown kind 9/],
      ['reserved bytes', patched((b) => (b[7] = 1)), /reserved/],
      ['truncated', good.subarray(0, good.length - 1), /expected 48/],
      ['trailing byte', Uint8Array.from([...good, 0]), /expected 48/],
      ['huge dimension', patched((_, v) => v.setUint32(12, 2 ** 30, true)), /exceeds/],
      ['NaN moment', patched((_, v) => v.setFloat64(16, NaN, true)), /m\[0\] is not finite/],
      ['negative v', patched((_, v) => v.setFloat64(40, -1, true)), /v\[1\]/],
    ];
    it.each(cases)('%s', (_, bytes, message) => {
      expectProtocolError(() => decodeOptimizerState(bytes), 'MalformedMessage', message);
    });
  });
});
