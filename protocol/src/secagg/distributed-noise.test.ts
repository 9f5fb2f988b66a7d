import { beforeAll, describe, expect, it } from 'vitest';
import { cryptoReady } from '../crypto/sodium';
import { seededRandom } from '../crypto/random';
import { distributedSkellamMu, noiseHeadroom } from '../dp/distributed';
import { chiSquareCdf, chiSquareSurvival } from '../dp/stats';
import { runRound } from './channel';
import { generateCohort } from './cohort';
import { quantizationScale } from './quantize';
import type { ServerStage } from './server';
import { randomInputs } from './testkit';

beforeAll(cryptoReady);

const N = 10;
const DIM = 20_000;
/** Target variance of the released sum, in quantized units (σ = 10^4 steps). */
const TARGET = 1e8;

describe('distributed DP: Skellam noise carried through a secure-aggregation round', () => {
  const { perClientMu } = distributedSkellamMu({
    clients: N,
    threshold: 7,
    targetVariance: TARGET,
  });
  const headroom = noiseHeadroom({ perClientMu, n: N, failureProb: 1e-12 });

  it.each([
    ['all 10 survive', []],
    ['only t = 7 survive', [2, 5, 8]],
  ] as const)('%s: the released sum carries at least the target variance', (_name, dropped) => {
    const { config, identities } = generateCohort({
      clients: N,
      dim: DIM,
      clipRange: 1,
      noiseHeadroom: headroom,
    });
    expect(config.threshold).toBe(7);
    const inputs = randomInputs(seededRandom(11), N, DIM);
    const drop = new Map<number, ServerStage>(dropped.map((i) => [i, 'masked']));
    const report = runRound({ config, identities, inputs, drop, skellamMu: perClientMu });
    expect(report.error).toBeUndefined();
    const result = report.result!;
    const s = quantizationScale(config.quant);
    // Residual per coordinate, in quantized units: the summed noise (plus < 10 units of rounding).
    const residual = new Float64Array(DIM);
    for (let j = 0; j < DIM; j++) {
      let plain = 0;
      for (const u of result.survivors) plain += inputs[u]!.vector[j]!;
      residual[j] = (result.sum[j]! - plain) * s;
    }
    const expectedVariance = 2 * perClientMu * result.survivors.length;
    expect(expectedVariance).toBeGreaterThanOrEqual(TARGET);
    const mean = residual.reduce((a, b) => a + b, 0) / DIM;
    const ss = residual.reduce((a, r) => a + (r - mean) ** 2, 0);
    // (N−1)·S²/σ² ~ χ²_{N−1} under the null; reject outside the two-sided 1e-6 region
    // (5e-7 in each tail). Skellam with μ ≈ 7e6 is Gaussian to far better than that resolution.
    const stat = ss / expectedVariance;
    expect(chiSquareCdf(stat, DIM - 1)).toBeGreaterThan(5e-7);
    expect(chiSquareSurvival(stat, DIM - 1)).toBeGreaterThan(5e-7);
    // |mean| ≤ 5.3 standard errors: false-rejection probability ≈ 1.2e-7.
    expect(Math.abs(mean)).toBeLessThan(5.3 * Math.sqrt(expectedVariance / DIM));
  });

  it('refuses noise without headroom reserved in the configuration', () => {
    const { config, identities } = generateCohort({ clients: 3, dim: 4, clipRange: 1 });
    const report = (() => {
      try {
        return runRound({
          config,
          identities,
          inputs: randomInputs(seededRandom(1), 3, 4),
          skellamMu: 5,
        });
      } catch (err) {
        return err;
      }
    })();
    expect(String(report)).toMatch(/InvalidConfig: distributed noise needs noiseHeadroom/);
  });
});
