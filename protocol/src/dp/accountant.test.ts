import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NoiseMultiplier } from '../brand';
import { isProtocolError } from '../errors';
import { calibrateNoiseMultiplier, epsilonFor, tighterEpsilon } from './accountant';
import type { AccountingEvent, GaussianEvent } from './events';

const gaussian = (noiseMultiplier: number, samplingRate: number, steps: number): GaussianEvent => ({
  mechanism: 'gaussian',
  noiseMultiplier: noiseMultiplier as NoiseMultiplier,
  samplingRate,
  steps,
});

describe('calibrateNoiseMultiplier', () => {
  it('RDP: ε(calibrate(E)) ≤ E and within 1% of E (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.3, max: 20, noNaN: true }),
        fc.double({ min: 1e-3, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 5000 }),
        (target, q, steps) => {
          const r = calibrateNoiseMultiplier({
            targetEpsilon: target,
            samplingRate: q,
            steps,
            delta: 1e-5,
          });
          const check = epsilonFor({
            events: [gaussian(r.noiseMultiplier, q, steps)],
            delta: 1e-5,
          }).epsilon;
          expect(check).toBe(r.epsilon);
          expect(check).toBeLessThanOrEqual(target);
          expect(check).toBeGreaterThanOrEqual(0.99 * target);
        },
      ),
      { numRuns: 12, seed: 9 },
    );
  });

  it('PLD: needs less noise than RDP for the same target, still ≤ E and within 1%', () => {
    const opts = { targetEpsilon: 2, samplingRate: 0.1, steps: 100, delta: 1e-5 };
    const rdp = calibrateNoiseMultiplier(opts);
    const pld = calibrateNoiseMultiplier({ ...opts, accountant: 'pld' });
    expect(pld.noiseMultiplier).toBeLessThan(rdp.noiseMultiplier);
    expect(pld.epsilon).toBeLessThanOrEqual(2);
    expect(pld.epsilon).toBeGreaterThanOrEqual(0.99 * 2);
  });

  it('rejects a non-positive target', () => {
    expect(() =>
      calibrateNoiseMultiplier({ targetEpsilon: 0, samplingRate: 0.1, steps: 1, delta: 1e-5 }),
    ).toThrow(/targetEpsilon/);
  });
});

describe('tighterEpsilon', () => {
  it('takes the minimum of RDP and PLD, saying which', () => {
    const r = tighterEpsilon({ events: [gaussian(1, 0.01, 1000)], delta: 1e-5 });
    expect(r.accountant).toBe('pld');
    expect(r.epsilon).toBe(Math.min(r.rdpEpsilon, r.pldEpsilon!));
    expect(r.rdpEpsilon).toBeCloseTo(2.1014, 3);
  });

  it('falls back to RDP when a Skellam event is present', () => {
    const events: AccountingEvent[] = [
      gaussian(1, 0.01, 100),
      {
        mechanism: 'skellam',
        skellam: { mu: 5e5, l2Sensitivity: 1000, l1Sensitivity: 1e6 },
        samplingRate: 1,
        steps: 2,
      },
    ];
    const r = tighterEpsilon({ events, delta: 1e-5 });
    expect(r.accountant).toBe('rdp');
    expect(r.pldEpsilon).toBeNull();
    try {
      epsilonFor({ events, delta: 1e-5, accountant: 'pld' });
      expect.unreachable();
    } catch (e) {
      expect(isProtocolError(e, 'InvalidArgument')).toBe(true);
    }
  });
});
