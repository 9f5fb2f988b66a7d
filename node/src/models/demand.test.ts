import { cryptoReady, seededRandom } from '@coopfl/protocol';
import {
  DEMAND_FEATURES,
  DEMAND_HORIZON,
  MODEL_METRICS,
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
    days: 420,
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
    // The level: mean daily units of the 28 history days 3..30 = 16.5 (above ¼ of the scale 2).
    const level = demandFeatures(series, { firstDay, totals: units }, 30, x);
    expect(level).toBeCloseTo(16.5, 12);
    const f = (name: string) => x[DEMAND_FEATURES.indexOf(name)]!;
    expect(f('lag_1')).toBeCloseTo(30 / 16.5, 6);
    expect(f('lag_28')).toBeCloseTo(3 / 16.5, 6);
    expect(f('mean_7')).toBeCloseTo(27 / 16.5, 5); // days 24..30
    expect(f('mean_28')).toBeCloseTo(1, 5);
    // The shop's last 7 days (24..30: 189 units) ×4 against its last 28 (3..30: 462 units).
    expect(f('shop_trend')).toBeCloseTo((189 * 4) / 462 - 1, 5);
    // Not a year of history yet: last year's weeks are unknown.
    expect(f('ly_known')).toBe(0);
    expect([1, 2, 3, 4].map((w) => f(`ly_week_${w}`))).toEqual([0, 0, 0, 0]);
    // The first forecast day is 2024-02-01 (day 31), a Thursday: getUTCDay 4.
    expect(f('dow_4')).toBe(1);
    expect([0, 1, 2, 3, 5, 6].map((d) => f(`dow_${d}`))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(f('month_sin')).toBeCloseTo(Math.sin((2 * Math.PI) / 12), 5);
    expect(f('price_ratio')).toBeCloseTo(2 / 4 - 1, 6);
    expect(f('promo')).toBe(1);
    expect(f('holiday')).toBe(0);
    expect(f('log_level')).toBeCloseTo(Math.log1p(16.5), 6);
    expect(f('level_vs_mean')).toBeCloseTo(Math.log(16.5 / 2), 6);
  });

  it("reads last year's forecast weeks from the shop's totals, and nothing after the origin", () => {
    const days = 420;
    const o = 400;
    const totals = new Float64Array(days).fill(1);
    const ly = o - 364; // the origin 52 weeks earlier
    for (let d = ly + 1; d <= ly + 7; d++) totals[d] = 3; // week 1 a year ago: 3× the usual
    for (let d = ly + 15; d <= ly + 21; d++) totals[d] = 0.5; // week 3: half
    for (let d = o + 1; d < days; d++) totals[d] = 1000; // the future: must not be read
    const series: DemandSeries = {
      catalogKey: 'CK',
      units: new Float64Array(days).fill(1),
      price: new Float64Array(days).fill(Number.NaN),
      promo: new Uint8Array(days),
      holiday: new Uint8Array(days),
      scale: 1,
      meanPrice: Number.NaN,
      naiveMae: 1,
    };
    const x = new Float32Array(DEMAND_FEATURES.length);
    demandFeatures(series, { firstDay: 19_000, totals }, o, x);
    const f = (name: string) => x[DEMAND_FEATURES.indexOf(name)]!;
    expect(f('ly_known')).toBe(1);
    expect(f('ly_week_1')).toBeCloseTo(2, 6); // 3 per day against 1: +200 %
    expect(f('ly_week_2')).toBeCloseTo(0, 6);
    expect(f('ly_week_3')).toBeCloseTo(-0.5, 6);
    expect(f('ly_week_4')).toBeCloseTo(0, 6);
    expect(f('shop_trend')).toBeCloseTo(0, 6);
  });

  it("floors the level at a quarter of the series' long-run mean after empty weeks", () => {
    const days = 60;
    const units = new Float64Array(days);
    units[5] = 8; // one sale long before the history window, then nothing
    const series: DemandSeries = {
      catalogKey: 'CK',
      units,
      price: new Float64Array(days).fill(Number.NaN),
      promo: new Uint8Array(days),
      holiday: new Uint8Array(days),
      scale: 0.4,
      meanPrice: Number.NaN,
      naiveMae: 1,
    };
    const x = new Float32Array(DEMAND_FEATURES.length);
    const level = demandFeatures(series, { firstDay: 19_000, totals: units }, 50, x);
    expect(level).toBeCloseTo(0.1, 12);
    expect(x[DEMAND_FEATURES.indexOf('level_vs_mean')]).toBeCloseTo(Math.log(0.25), 6);
    expect(x[DEMAND_FEATURES.indexOf('lag_1')]).toBe(0);
  });

  it('scores weekly totals: WAPE of four weekly sums per forecast, daily WAPE beside it', () => {
    const global = initialWeights(arch, seededRandom(3));
    const m = demandRuntime.evaluate(arch, global, fromDaily);
    expect(Object.keys(m).sort()).toEqual([...MODEL_METRICS.demand].sort());
    // The seasonal-naive baseline by hand: weekly sums of "same as last week".
    let err = 0;
    let total = 0;
    let errDaily = 0;
    const t = fromDaily.test;
    for (let e = 0; e < t.size; e++) {
      const s = fromDaily.series[fromDaily.testMeta.series[e]!]!;
      const o = fromDaily.testMeta.origin[e]!;
      for (let w = 0; w < 4; w++) {
        let a = 0;
        let p = 0;
        for (let h = 7 * w; h < 7 * w + 7; h++) {
          const ah = s.units[o + 1 + h]!;
          const ph = s.units[o - 6 + (h % 7)]!;
          a += ah;
          p += ph;
          errDaily += Math.abs(ah - ph);
        }
        err += Math.abs(a - p);
        total += a;
      }
    }
    const naive = demandRuntime.baselines(fromDaily).seasonal_naive!;
    expect(naive.wape).toBeCloseTo(err / total, 5);
    expect(naive.wape_daily).toBeCloseTo(errDaily / total, 5);
    expect(naive.wape!).toBeLessThan(naive.wape_daily!);
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
