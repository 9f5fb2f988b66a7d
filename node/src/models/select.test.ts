import { cryptoReady, seededRandom } from '@coopfl/protocol';
import { defaultArchitecture, initialWeights } from '@coopfl/protocol/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initTf } from '../tf/backend';
import { fraudRuntime, type FraudData } from './fraud';
import { MAIN_METRIC, personalizeWeights, trainSelected, validationValue } from './select';
import { synthStore, type SynthStore } from './testing';
import type { LocalTrainingConfig, ModelRuntime, PreparedData } from './types';

const shop: PreparedData = {
  kind: 'fraud',
  counts: { train: 1, validation: 0, test: 0 },
  split: { validationFrom: '2024-01-01', testFrom: '2024-01-02' },
};

describe('trainSelected (early stopping on validation)', () => {
  // A runtime whose epoch e leaves the single weight at e: the score decides which is kept.
  const runtime = {
    train: (_a: unknown, init: Float32Array, _d: unknown, cfg: LocalTrainingConfig) => {
      const w = Float32Array.from(init);
      for (let e = 1; e <= cfg.epochs; e++) {
        w[0] = e;
        cfg.onEpoch?.(e, cfg.epochs, () => Float32Array.from(w));
      }
      return Promise.resolve({ weights: w, examples: 1, dpEvents: [] });
    },
  } as unknown as ModelRuntime;
  const arch = defaultArchitecture('fraud');
  const cfg = { epochs: 5, learningRate: 0.1, batchSize: 1, mu: 0 } as LocalTrainingConfig;
  const run = (
    higherIsBetter: boolean,
    score: (e: number) => number | null,
    o: { keepStart?: boolean } = {},
  ) =>
    trainSelected(
      runtime,
      arch,
      new Float32Array(1),
      shop,
      cfg,
      { name: 'm', higherIsBetter },
      (w) => score(w[0]!),
      o,
    );

  it('keeps the epoch with the best validation value, in the metric’s direction', async () => {
    const curve = [0.5, 0.3, 0.2, 0.25, 0.4]; // epoch 3 best when lower is better
    const low = await run(false, (e) => curve[e - 1]!);
    expect(low.epoch).toBe(3);
    expect(low.weights[0]).toBe(3);
    const high = await run(true, (e) => curve[e - 1]!);
    expect(high.epoch).toBe(1);
    expect(high.weights[0]).toBe(1);
  });

  it('skips epochs it cannot score, and keeps the last when none scores', async () => {
    expect((await run(true, (e) => (e === 4 ? 0.9 : null))).epoch).toBe(4);
    const none = await run(true, () => null);
    expect(none.epoch).toBe(5);
    expect(none.weights[0]).toBe(5);
  });

  it('with keepStart, keeps the starting weights when no epoch beats them', async () => {
    const curve = [0.6, 0.5, 0.4, 0.3, 0.2, 0.1]; // epoch 0 (the start) best when higher wins
    const kept = await run(true, (e) => curve[e]!, { keepStart: true });
    expect(kept.epoch).toBe(0);
    expect(kept.weights[0]).toBe(0);
    expect((await run(true, (e) => curve[e]!)).epoch).toBe(1);
    expect((await run(false, (e) => curve[e]!, { keepStart: true })).epoch).toBe(5);
  });
});

describe('personalizeWeights (a real model fine-tuned on one shop)', () => {
  const arch = defaultArchitecture('fraud');
  let store: SynthStore;
  let shops: FraudData[];

  beforeAll(async () => {
    await cryptoReady();
    await initTf({ log: () => undefined });
    store = await synthStore(
      {
        shops: 2,
        days: 200,
        customersPerShop: 500,
        catalogSize: 40,
        fraudRate: [0.03, 0.08],
        seed: 5,
      },
      { keepShops: 2 },
    );
    shops = await Promise.all(
      store.storeIds.map((storeId) => fraudRuntime.prepare(store.source, { arch, storeId })),
    );
  }, 60_000);

  afterAll(async () => {
    await store.close();
  });

  const cfg = (seed: number): LocalTrainingConfig => ({
    epochs: 3,
    learningRate: 0.01,
    batchSize: 64,
    mu: 0,
    random: seededRandom(seed),
  });
  const validation = (w: Float32Array, d: FraudData) =>
    validationValue(fraudRuntime.evaluate(arch, w, d, 'validation'), MAIN_METRIC.fraud);

  it("keeps what scores best on the shop's validation split, the shared model included", async () => {
    // A "shared" model from the other shop, then each start personalized on shop 0.
    const init = initialWeights(arch, seededRandom(1));
    const { weights: shared } = await fraudRuntime.train(arch, init, shops[1]!, cfg(2));
    for (const start of [init, shared]) {
      const p = await personalizeWeights(fraudRuntime, 'fraud', arch, start, shops[0]!, cfg(3));
      expect(p.metric).toBe('pr_auc');
      expect(p.shared).toBeCloseTo(validation(start, shops[0]!)!, 9);
      expect(p.kept).toBeCloseTo(validation(p.weights, shops[0]!)!, 9);
      expect(p.kept!).toBeGreaterThanOrEqual(p.shared!);
      expect(p.epoch).toBeGreaterThanOrEqual(0);
      expect(p.epoch).toBeLessThanOrEqual(3);
      if (p.epoch === 0) expect(p.weights).toBe(start);
    }
    // Untrained weights are beaten by training on the shop's own data.
    const fromInit = await personalizeWeights(fraudRuntime, 'fraud', arch, init, shops[0]!, cfg(3));
    expect(fromInit.epoch).toBeGreaterThan(0);
    expect(fromInit.kept!).toBeGreaterThan(fromInit.shared!);
  }, 60_000);
});
