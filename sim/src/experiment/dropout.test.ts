import { describe, expect, it } from 'vitest';
import { runExperiment } from './run';
import { TINY } from './tiny.fixture';

describe('coopfl-sim run: dropouts', () => {
  it('completes every round with 30 % of the shops offline and threshold ⅔', async () => {
    const r = await runExperiment({
      ...TINY,
      models: ['fraud'],
      dropout: 0.3,
      thresholdFraction: 2 / 3,
      // The advertise stage waits this long for the offline shop before going on without it.
      stageTimeoutMs: 8_000,
    });
    const [m] = r.models;
    expect(m!.rounds).toHaveLength(2);
    for (const round of m!.rounds) {
      expect(round.dropped).toHaveLength(1); // round(0.3 × 3)
      expect(round.status, round.error ?? '').toBe('done');
      expect(round.survivors).toBe(2);
    }
    // The offline shop differs between rounds only by the seed; both rounds produced versions.
    expect(m!.rounds.map((x) => x.resultVersion)).toEqual([1, 2]);
  }, 90_000);
});

describe('coopfl-sim run: stragglers', () => {
  it('waits for a shop that is late within the stage timeout', async () => {
    const r = await runExperiment({
      ...TINY,
      rounds: 1,
      models: ['fraud'],
      stragglers: { fraction: 0.34, delayMs: 1_500 },
      stageTimeoutMs: 20_000,
    });
    const [round] = r.models[0]!.rounds;
    expect(round!.stragglers).toHaveLength(1); // round(0.34 × 3)
    expect(round!.dropped).toEqual([]);
    expect(round!.status, round!.error ?? '').toBe('done');
    expect(round!.survivors).toBe(3);
    expect(round!.timing.seconds).toBeGreaterThanOrEqual(1.5);
  }, 90_000);

  it('goes on without a shop later than the stage timeout', async () => {
    const r = await runExperiment({
      ...TINY,
      rounds: 1,
      models: ['fraud'],
      stragglers: { fraction: 0.34, delayMs: 6_000 },
      thresholdFraction: 2 / 3,
      stageTimeoutMs: 2_500,
    });
    const [round] = r.models[0]!.rounds;
    expect(round!.stragglers).toHaveLength(1);
    expect(round!.status, round!.error ?? '').toBe('done');
    expect(round!.survivors).toBe(2);
  }, 90_000);
});
