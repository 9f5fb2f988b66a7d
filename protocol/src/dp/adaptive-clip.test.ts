import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../crypto/random';
import { cryptoReady } from '../crypto/sodium';
import { isProtocolError } from '../errors';
import {
  adaptiveClipNoiseSplit,
  adaptiveClipUpdate,
  effectiveNoiseMultiplier,
} from './adaptive-clip';
import { gaussianVector } from './gaussian';

await cryptoReady();

describe('adaptive clipping noise split (Andrew et al. 2021, Thm. 1)', () => {
  it('split then combine returns the calibrated multiplier (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.05, max: 50, noNaN: true }),
        fc.double({ min: 0.51, max: 1e4, noNaN: true }),
        (z, ratio) => {
          const countStddev = ratio * z; // 2σ_b > z
          const { updateNoiseMultiplier } = adaptiveClipNoiseSplit({
            noiseMultiplier: z,
            countStddev,
          });
          expect(updateNoiseMultiplier).toBeGreaterThan(z);
          const back = effectiveNoiseMultiplier({ updateNoiseMultiplier, countStddev });
          expect(Math.abs(back / z - 1)).toBeLessThan(1e-9);
        },
      ),
      { numRuns: 300, seed: 5 },
    );
  });

  it('matches the paper formula on a worked example', () => {
    // z = 1, σ_b = 5: z_Δ = (1 − 1/100)^(−1/2) = 1.00503781…
    expect(
      adaptiveClipNoiseSplit({ noiseMultiplier: 1, countStddev: 5 }).updateNoiseMultiplier,
    ).toBeCloseTo(1 / Math.sqrt(0.99), 12);
  });

  it('refuses a count noise too small to pay for', () => {
    try {
      adaptiveClipNoiseSplit({ noiseMultiplier: 2, countStddev: 1 });
      expect.unreachable();
    } catch (e) {
      expect(isProtocolError(e, 'InvalidConfig')).toBe(true);
    }
  });
});

describe('adaptiveClipUpdate', () => {
  it('moves C geometrically towards the target quantile', () => {
    const rng = seededRandom(1);
    const base = { clipNorm: 2, expectedClients: 100, countStddev: 0 };
    const down = adaptiveClipUpdate(rng, { ...base, unclippedCount: 80 });
    expect(down.clipNorm).toBeCloseTo(2 * Math.exp(-0.2 * 0.3), 12);
    const up = adaptiveClipUpdate(rng, {
      ...base,
      unclippedCount: 10,
      learningRate: 0.5,
      targetQuantile: 0.9,
    });
    expect(up.clipNorm).toBeCloseTo(2 * Math.exp(0.5 * 0.8), 12);
  });

  it('tracks the median update norm within 15% in simulation (σ_b = m/20)', () => {
    const rng = seededRandom(2);
    const m = 100;
    let clipNorm = 0.01; // start far too small
    for (let round = 0; round < 150; round++) {
      // Update norms are log-normal with median 3.
      const z = gaussianVector(rng, { length: m, stddev: 0.5 });
      const unclippedCount = [...z].filter((v) => 3 * Math.exp(v) <= clipNorm).length;
      clipNorm = adaptiveClipUpdate(rng, {
        clipNorm,
        unclippedCount,
        expectedClients: m,
        countStddev: m / 20,
      }).clipNorm;
    }
    expect(clipNorm).toBeGreaterThan(3 * 0.85);
    expect(clipNorm).toBeLessThan(3 * 1.15);
  });

  it('validates arguments', () => {
    const rng = seededRandom(3);
    expect(() =>
      adaptiveClipUpdate(rng, {
        clipNorm: 1,
        unclippedCount: -1,
        expectedClients: 5,
        countStddev: 1,
      }),
    ).toThrow(/unclippedCount/);
    expect(() =>
      adaptiveClipUpdate(rng, {
        clipNorm: 1,
        unclippedCount: 1,
        expectedClients: 5,
        countStddev: 1,
        targetQuantile: 1,
      }),
    ).toThrow(/targetQuantile/);
  });
});
