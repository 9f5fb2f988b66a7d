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
