import { cryptoReady, seededRandom } from '@coopfl/protocol';
import {
  DEMAND_FEATURES,
  DEMAND_HORIZON,
  defaultArchitecture,
  initialWeights,
} from '@coopfl/protocol/models';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCoopNodeError } from '../errors';
import { StoreSource } from '../store/source';
import { initTf } from '../tf/backend';
import {
  demandFeatures,
  demandRuntime,
  forecast,
  type DemandData,
  type DemandSeries,
} from './demand';
import { synthStore, type SynthStore } from './testing';
import type { LocalTrainingConfig } from './types';

const arch = defaultArchitecture('demand');
let store: SynthStore;
let fromOrders: DemandData;
let fromDaily: DemandData;

beforeAll(async () => {
  await cryptoReady();
  await initTf({ log: () => undefined });
  store = await synthStore({
    shops: 2,
    days: 260,
    customersPerShop: 1500,
    catalogSize: 30,
    seed: 5,
    dailySales: true,
  });
  const storeId = store.storeIds[0]!;
  fromDaily = await demandRuntime.prepare(store.source, { arch, storeId });
  // The same shop without daily_sales: series summed from its orders.
  const noDaily = await StoreSource.open(store.db, { dailySales: null });
  fromOrders = await demandRuntime.prepare(noDaily, { arch, storeId });
}, 60_000);

afterAll(async () => {
  await store.close();
});

const cfg = (over: Partial<LocalTrainingConfig> = {}): LocalTrainingConfig => ({
  epochs: 3,
  learningRate: 3e-3,
  batchSize: 64,
  mu: 0,
  random: seededRandom(1),
  ...over,
});

describe('demand', () => {
  it('builds features of the protocol width, from daily sales or from orders', () => {
    expect(fromDaily.origin).toBe('daily_sales');
    expect(fromOrders.origin).toBe('orders');
    for (const d of [fromDaily, fromOrders]) {
      expect(d.train.width).toBe(DEMAND_FEATURES.length);
      expect(d.train.yWidth).toBe(DEMAND_HORIZON);
      expect(d.counts.train).toBeGreaterThan(100);
      expect(d.counts.test).toBeGreaterThan(10);
    }
    // daily_sales counts the same non-cancelled lines: the series agree.
    const a = fromDaily.series[0]!;
    const b = fromOrders.series.find((s) => s.catalogKey === a.catalogKey)!;
    expect(Array.from(b.units.slice(-60))).toEqual(Array.from(a.units.slice(-60)));
  });

  it('puts each feature where DEMAND_FEATURES names it', () => {
    const days = 40;
    const units = Float64Array.from({ length: days }, (_, i) => i); // day i sold i units
    const series: DemandSeries = {
      catalogKey: 'CK',
      units,
      price: new Float64Array(days).fill(2),
      promo: new Uint8Array(days).fill(1),
      holiday: new Uint8Array(days),
      scale: 2,
      meanPrice: 4,
      naiveMae: 7,
    };
    const firstDay = Date.UTC(2024, 0, 1) / 86_400_000; // a Monday
    const x = new Float32Array(DEMAND_FEATURES.length);
    demandFeatures(series, firstDay, 30, x);
    const f = (name: string) => x[DEMAND_FEATURES.indexOf(name)]!;
    expect(f('lag_1')).toBe(30 / 2);
    expect(f('lag_28')).toBe(3 / 2);
    expect(f('mean_7')).toBeCloseTo(27 / 2, 5); // days 24..30
    expect(f('mean_28')).toBeCloseTo(16.5 / 2, 5); // days 3..30
    // The first forecast day is 2024-02-01 (day 31), a Thursday: getUTCDay 4.
    expect(f('dow_4')).toBe(1);
    expect([0, 1, 2, 3, 5, 6].map((d) => f(`dow_${d}`))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(f('month_sin')).toBeCloseTo(Math.sin((2 * Math.PI) / 12), 5);
    expect(f('price_ratio')).toBeCloseTo(2 / 4 - 1, 6);
    expect(f('promo')).toBe(1);
    expect(f('holiday')).toBe(0);
    expect(f('log_scale')).toBeCloseTo(Math.log1p(2), 6);
  });

  it('splits by date without leakage', () => {
    const validationFrom = Date.parse(`${fromDaily.split.validationFrom}T00:00:00Z`) / 86_400_000;
    const testFrom = Date.parse(`${fromDaily.split.testFrom}T00:00:00Z`) / 86_400_000;
    // Every training example's target window ends before validation begins.
    const lastTrainTarget =
      fromDaily.firstDay + Math.max(...fromDaily.trainMeta.origin) + DEMAND_HORIZON;
    expect(lastTrainTarget).toBeLessThan(validationFrom);
    expect(fromDaily.trainMeta.origin).toHaveLength(fromDaily.counts.train);
    for (let e = 0; e < fromDaily.validationMeta.origin.length; e++) {
      const o = fromDaily.firstDay + fromDaily.validationMeta.origin[e]!;
      expect(o + 1).toBeGreaterThanOrEqual(validationFrom);
      expect(o + DEMAND_HORIZON).toBeLessThan(testFrom);
    }
    for (let e = 0; e < fromDaily.testMeta.origin.length; e++) {
      expect(fromDaily.firstDay + fromDaily.testMeta.origin[e]! + 1).toBeGreaterThanOrEqual(
        testFrom,
      );
    }
  });

  it('training lowers the loss materially and beats seasonal naive', async () => {
    const global = initialWeights(arch, seededRandom(2));
    const before = demandRuntime.evaluate(arch, global, fromDaily);
    const result = await demandRuntime.train(arch, global, fromDaily, cfg({ epochs: 6 }));
    expect(result.examples).toBe(fromDaily.counts.train);
    expect(result.dpEvents).toEqual([]);
    const after = demandRuntime.evaluate(arch, result.weights, fromDaily);
    const naive = demandRuntime.baselines(fromDaily).seasonal_naive!;
    expect(after.loss!).toBeLessThan(0.7 * before.loss!);
    expect(after.wape!).toBeLessThan(naive.wape!);
    expect(after.mase!).toBeLessThan(naive.mase!);
    const f = forecast(arch, result.weights, fromDaily, fromDaily.series[0]!.catalogKey, 14);
    expect(f.units).toHaveLength(14);
    expect(f.from > fromDaily.split.testFrom).toBe(true);
    for (const u of f.units) expect(u).toBeGreaterThanOrEqual(0);
  }, 60_000);

  it('refuses to mix shops when the database holds several and no storeId is given', async () => {
    const err: unknown = await demandRuntime
      .prepare(store.source, { arch })
      .catch((e: unknown) => e);
    expect(isCoopNodeError(err, 'InvalidArgument')).toBe(true);
    expect((err as Error).message).toContain('storeId');
  });

  it('says so when a shop has too little history', async () => {
    // The same store seen through a view holding only its first 60 days of sales.
    await store.db.execute(
      sql.raw(
        "create or replace view public.first_days as select * from shop.daily_sales where date < date '2024-03-01'",
      ),
    );
    const short = await StoreSource.open(store.db, { dailySales: 'public.first_days' });
    const err: unknown = await demandRuntime
      .prepare(short, { arch, storeId: store.storeIds[0]! })
      .catch((e: unknown) => e);
    expect(isCoopNodeError(err, 'InsufficientData')).toBe(true);
    expect((err as Error).message).toContain('days of sales history');
  });

  it('names an unknown catalog key and a bad horizon', () => {
    const w = initialWeights(arch, seededRandom(2));
    expect(() => forecast(arch, w, fromDaily, 'NO-SUCH-KEY', 14)).toThrow(/unknown catalog key/);
    const err = (() => {
      try {
        forecast(arch, w, fromDaily, fromDaily.series[0]!.catalogKey, 29);
      } catch (e) {
        return e;
      }
    })();
    expect(isCoopNodeError(err, 'InvalidArgument')).toBe(true);
  });
});
