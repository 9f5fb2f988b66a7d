import { cryptoReady, seededRandom } from '@coopfl/protocol';
import {
  RECOMMENDATION_HISTORY,
  defaultArchitecture,
  initialWeights,
  manifestOf,
} from '@coopfl/protocol/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initTf } from '../tf/backend';
import { recommend, recommendationRuntime, type RecommendationData } from './recommendation';
import { synthStore, type SynthStore } from './testing';

const arch = defaultArchitecture('recommendation', { vocab: 512, embeddingDim: 16, hidden: 32 });
let store: SynthStore;
let data: RecommendationData;

beforeAll(async () => {
  await cryptoReady();
  await initTf({ log: () => undefined });
  store = await synthStore(
    {
      shops: 2,
      days: 200,
      customersPerShop: 800,
      catalogSize: 400,
      repeatCustomerShare: 0.7,
      seed: 9,
    },
    { keepShops: 1 },
  );
  data = await recommendationRuntime.prepare(store.source, { arch, storeId: store.storeIds[0]! });
}, 60_000);

afterAll(async () => {
  await store.close();
});

describe('recommendation', () => {
  it('builds left-padded histories and a leave-last-out split', () => {
    expect(data.train.width).toBe(RECOMMENDATION_HISTORY);
    expect(data.counts.test).toBe(data.counts.validation);
    expect(data.counts.test).toBeGreaterThan(50);
    // Customers with ≥ 3 purchases give exactly one validation and one test example.
    const eligible = [...data.histories.values()].filter((h) => h.length >= 3).length;
    expect(data.counts.test).toBe(eligible);
    for (let r = 0; r < data.train.size; r++) expect(data.train.y[r]).toBeGreaterThan(0);
  });

  it('training beats popularity', async () => {
    const global = initialWeights(arch, seededRandom(3));
    const before = recommendationRuntime.evaluate(arch, global, data);
    const result = await recommendationRuntime.train(arch, global, data, {
      epochs: 8,
      learningRate: 5e-3,
      batchSize: 64,
      mu: 0,
      random: seededRandom(4),
    });
    const after = recommendationRuntime.evaluate(arch, result.weights, data);
    const popularity = recommendationRuntime.baselines(data).popularity!;
    expect(after.loss!).toBeLessThan(before.loss! - 0.5);
    expect(after.hit_rate_10!).toBeGreaterThan(popularity.hit_rate_10!);
    expect(after.ndcg_10!).toBeGreaterThan(popularity.ndcg_10!);
    const customer = [...data.histories.keys()][0]!;
    const rec = recommend(arch, result.weights, data, customer, 5);
    expect(rec.items).toHaveLength(5);
    expect(rec.fallback).toBeUndefined();
    for (const it of rec.items) expect(data.bought.get(customer)!.has(it.productId)).toBe(false);
  }, 60_000);

  it("adds the shop's assortment prior: a bucket it does not carry is never ranked", () => {
    const carried = new Set([...data.bucketProducts.keys()]);
    expect(data.prior[0]).toBe(-30); // padding
    for (let b = 1; b < data.vocab; b++) expect(data.prior[b]).toBe(carried.has(b) ? 0 : -30);
    const absent = Array.from({ length: data.vocab }, (_, b) => b).find(
      (b) => b > 0 && !carried.has(b),
    )!;
    // A network that puts a bucket the shop cannot sell far ahead of every other one…
    const w = initialWeights(arch, seededRandom(3));
    const pushed = Float32Array.from(w);
    const bias = manifestOf(arch).entries.find((e) => e.name === 'dense_1/bias')!;
    pushed[bias.offset + absent] = 20;
    // …ranks as if it did not: the prior takes the bucket out of the shop's ranking.
    const before = recommendationRuntime.evaluate(arch, w, data);
    const after = recommendationRuntime.evaluate(arch, pushed, data);
    expect(after.hit_rate_10).toBe(before.hit_rate_10);
    expect(after.ndcg_10).toBe(before.ndcg_10);
    expect(after.loss).toBeCloseTo(before.loss!, 3);
    const customer = [...data.histories.keys()][0]!;
    const rec = recommend(arch, pushed, data, customer, 10);
    expect(rec.items.every((i) => i.score < 0.5)).toBe(true);
    // Without the prior the same network would rank the absent bucket first for everyone.
    const noPrior: RecommendationData = {
      ...data,
      test: { ...data.test, logitOffset: undefined },
    };
    expect(recommendationRuntime.evaluate(arch, pushed, noPrior).ndcg_10).toBeLessThan(
      recommendationRuntime.evaluate(arch, w, noPrior).ndcg_10!,
    );
  });

  it('falls back to best sellers for an unknown customer', () => {
    const rec = recommend(arch, initialWeights(arch, seededRandom(3)), data, 'nobody', 3);
    expect(rec.fallback).toBe(true);
    expect(rec.items.map((i) => i.productId)).toEqual(
      data.popularProducts.slice(0, 3).map((p) => p.productId),
    );
  });
});
