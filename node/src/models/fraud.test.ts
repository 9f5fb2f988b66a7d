import { cryptoReady, seededRandom } from '@coopfl/protocol';
import { FRAUD_FEATURES, defaultArchitecture, initialWeights } from '@coopfl/protocol/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCoopNodeError } from '../errors';
import { StoreSource } from '../store/source';
import { initTf } from '../tf/backend';
import {
  fraudFeatures,
  fraudRuntime,
  paymentGroup,
  scoreOrder,
  type FraudContext,
  type FraudData,
} from './fraud';
import { synthStore, type SynthStore } from './testing';

const arch = defaultArchitecture('fraud');
let store: SynthStore;
let data: FraudData;

beforeAll(async () => {
  await cryptoReady();
  await initTf({ log: () => undefined });
  store = await synthStore(
    {
      shops: 2,
      days: 240,
      customersPerShop: 1200,
      catalogSize: 60,
      fraudRate: [0.04, 0.05],
      seed: 21,
    },
    { keepShops: 1 },
  );
  data = await fraudRuntime.prepare(store.source, { arch, storeId: store.storeIds[0]! });
}, 60_000);

afterAll(async () => {
  await store.close();
});

describe('fraud', () => {
  it('builds order features of the protocol width, split by date', () => {
    expect(data.train.width).toBe(FRAUD_FEATURES.length);
    expect(data.counts.train).toBeGreaterThan(data.counts.test);
    expect(data.counts.test).toBeGreaterThan(100);
    expect(data.split.validationFrom < data.split.testFrom).toBe(true);
    expect(data.test.y.some((v) => v > 0)).toBe(true);
  });

  it('puts each feature where FRAUD_FEATURES names it', () => {
    const t = Date.parse('2025-03-10T02:00:00Z');
    const ctx: FraudContext = {
      customers: new Map([['c1', { createdAt: t - 9 * 86_400_000, country: 'DE' }]]),
      orderTimes: new Map([['c1', [t - 8 * 86_400_000, t - 3 * 86_400_000, t - 3_600_000, t]]]),
      prices: new Map([['p1', 10]]),
      logAmountMean: Math.log1p(50),
      logAmountStd: 0.5,
    };
    const x = new Float32Array(FRAUD_FEATURES.length);
    fraudFeatures(
      {
        customerId: 'c1',
        createdAt: t,
        paymentMethod: 'Shop Pay',
        billingCountry: 'FR',
        shippingCountry: 'FR',
        riskLevel: 'high',
        items: [
          { productId: 'p1', quantity: 3 },
          { productId: 'p2', quantity: 1, unitPrice: 20 },
        ],
      },
      ctx,
      x,
    );
    const f = (name: string) => x[FRAUD_FEATURES.indexOf(name)]!;
    expect(f('log_amount')).toBeCloseTo(Math.log1p(50), 5); // 3·10 + 20, no total given
    expect(f('amount_z')).toBeCloseTo(0, 5);
    expect(f('night')).toBe(1);
    expect(f('hour_sin')).toBeCloseTo(Math.sin((2 * Math.PI * 2) / 24), 5);
    expect(f('log_tenure_days')).toBeCloseTo(Math.log1p(9), 5);
    expect(f('first_order')).toBe(0);
    expect(f('log_orders_24h')).toBeCloseTo(Math.log1p(1), 5);
    expect(f('log_orders_7d')).toBeCloseTo(Math.log1p(2), 5);
    expect(f('log_prior_orders')).toBeCloseTo(Math.log1p(3), 5);
    expect(f('ship_bill_mismatch')).toBe(0);
    expect(f('bill_customer_mismatch')).toBe(1);
    expect([f('pay_card'), f('pay_wallet'), f('pay_other')]).toEqual([0, 1, 0]);
    expect(f('log_items')).toBeCloseTo(Math.log1p(4), 5);
    expect(f('log_distinct_items')).toBeCloseTo(Math.log1p(2), 5);
    expect(f('top_item_share')).toBeCloseTo(30 / 50, 5);
    expect([f('risk_medium'), f('risk_high')]).toEqual([0, 1]);
  });

  it('groups payment methods', () => {
    expect(paymentGroup('card')).toBe('card');
    expect(paymentGroup('Apple Pay')).toBe('wallet');
    expect(paymentGroup('paypal')).toBe('wallet');
    expect(paymentGroup('invoice')).toBe('other');
    expect(paymentGroup(undefined)).toBeUndefined();
  });

  it('training beats the amount rule and lowers the loss', async () => {
    const global = initialWeights(arch, seededRandom(5));
    const before = fraudRuntime.evaluate(arch, global, data);
    const result = await fraudRuntime.train(arch, global, data, {
      epochs: 6,
      learningRate: 3e-3,
      batchSize: 64,
      mu: 0,
      random: seededRandom(6),
    });
    const after = fraudRuntime.evaluate(arch, result.weights, data);
    const rule = fraudRuntime.baselines(data).amount_rule!;
    expect(after.loss!).toBeLessThan(0.75 * before.loss!);
    expect(after.pr_auc!).toBeGreaterThan(rule.pr_auc! + 0.1);
    const { score } = scoreOrder(arch, result.weights, data, {
      customerId: 'someone-new',
      createdAt: '2025-01-01T03:00:00Z',
      paymentMethod: 'card',
      billingCountry: 'DE',
      shippingCountry: 'NG',
      items: [{ productId: 'X', quantity: 9, unitPrice: 400 }],
    });
    expect(score).toBeGreaterThanOrEqual(0);
    expect(score).toBeLessThanOrEqual(1);
  }, 60_000);

  it('trains under record-level DP-SGD and reports its steps', async () => {
    const result = await fraudRuntime.train(arch, initialWeights(arch, seededRandom(5)), data, {
      epochs: 1,
      learningRate: 3e-3,
      batchSize: 256,
      mu: 0,
      recordDp: { clipNorm: 1, noiseMultiplier: 1 },
      random: seededRandom(7),
    });
    // No oversampling under DP: each record once per epoch, full batches only.
    expect(result.dpEvents).toEqual([
      {
        mechanism: 'gaussian',
        noiseMultiplier: 1,
        samplingRate: 256 / data.counts.train,
        steps: Math.floor(data.counts.train / 256),
      },
    ]);
    expect(result.examples).toBe(data.counts.train);
  });

  it('rejects a malformed order naming the field', () => {
    const w = initialWeights(arch, seededRandom(5));
    const call = (order: unknown) => () => scoreOrder(arch, w, data, order);
    expect(call({ customerId: 'c', createdAt: '2025-01-01T00:00:00Z', items: [] })).toThrow(
      /items/,
    );
    expect(
      call({ customerId: 'c', createdAt: 'yesterday', items: [{ productId: 'p', quantity: 1 }] }),
    ).toThrow(/createdAt/);
    try {
      call(null)();
    } catch (e) {
      expect(isCoopNodeError(e, 'InvalidArgument')).toBe(true);
    }
  });

  it('refuses a shop without fraud labels', async () => {
    const noLabels = await StoreSource.open(store.db, { fraudLabels: null });
    const err: unknown = await fraudRuntime
      .prepare(noLabels, { arch, storeId: store.storeIds[0]! })
      .catch((e: unknown) => e);
    expect(isCoopNodeError(err, 'StoreSchemaMismatch')).toBe(true);
    expect((err as Error).message).toContain('fraud_labels');
  });
});
