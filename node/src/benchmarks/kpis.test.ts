import { sql } from 'drizzle-orm';
import { beforeEach, expect, it } from 'vitest';
import { KPI_IDS } from '@coopfl/protocol/benchmarks';
import { MODEL_METRICS } from '@coopfl/protocol/models';
import { isCoopNodeError } from '../errors';
import type { StoreDatabase } from '../store/open';
import {
  customers,
  fraudLabels,
  knownModels,
  localMetrics,
  orderItems,
  orders,
  products,
} from '../store/schema';
import { describeStores, rejectionOf } from '../store/testing';
import { computeKpis, MODEL_KPI_SOURCES, type ShopKpis } from './kpis';

const S = 's1';
const at = (iso: string) => new Date(iso);
const NOW = at('2024-09-01T00:00:00Z');

/**
 * A small shop (store s1), period 2024-03 = [2024-03-01, 2024-04-01):
 *
 * | order | customer | created (UTC)        | status    | total | items (product × qty @ price)  |
 * |-------|----------|----------------------|-----------|-------|--------------------------------|
 * | o7    | c5       | 2024-01-01           | completed | 10    | p3 ×1 @10                      | before
 * | o0    | c1       | 2024-02-10           | completed | 50    | —                              | before
 * | o1    | c1       | 2024-03-01 00:00:00  | completed | 110   | p1 ×2 @30, p2 ×1 @40 (= 100)   | start is inside
 * | o2    | c2       | 2024-03-05           | paid      | —     | p1 ×1 @30, p3 ×3 @10 (= 60)    | no total: items count
 * | o10   | c6       | 2024-03-10           | completed | —     | —                              | no amount at all
 * | o5    | c4       | 2024-03-15 12:00     | (null)    | 40    | p5 ×2 @10, p4 ×1 @20 (= 40)    | p5 has no category
 * | o3    | c2       | 2024-03-20           | Cancelled | 80    | p4 ×4 @20 (= 80)               |
 * | o4    | c3       | 2024-03-31 23:59:59  | refunded  | 25    | p2 ×1 @25                      |
 * | o6    | c3       | 2024-04-01 00:00:00  | completed | 999   | p3 ×10 @10                     | end is outside
 * | o11   | c6       | 2024-06-08 00:00:00  | completed | 5     | —                              | o10 + exactly 90 d
 * | o8    | c4       | 2024-06-13 12:00:01  | completed | 5     | —                              | o5 + 90 d + 1 s
 *
 * Products: p1 Toys, p2 Books, p3 Garden, p4 Kitchen, p5 (no category).
 * Fraud labels: o1 no, o2 yes, o3 no; o6 yes and o7 yes (outside the period).
 */
async function seedShop(db: StoreDatabase): Promise<void> {
  await db.insert(products).values([
    { storeId: S, productId: 'p1', catalogKey: 'k1', category: 'Toys', price: 30 },
    { storeId: S, productId: 'p2', catalogKey: 'k2', category: 'Books', price: 40 },
    { storeId: S, productId: 'p3', catalogKey: 'k3', category: 'Garden', price: 10 },
    { storeId: S, productId: 'p4', catalogKey: 'k4', category: 'Kitchen', price: 20 },
    { storeId: S, productId: 'p5', catalogKey: 'k5', category: null, price: 10 },
  ]);
  await db
    .insert(customers)
    .values(['c1', 'c2', 'c3', 'c4', 'c5', 'c6'].map((customerId) => ({ storeId: S, customerId })));
  const o = (
    orderId: string,
    customerId: string,
    createdAt: string,
    status: string | null,
    total: number | null,
  ) => ({ storeId: S, orderId, customerId, createdAt: at(createdAt), status, total });
  await db
    .insert(orders)
    .values([
      o('o7', 'c5', '2024-01-01T10:00:00Z', 'completed', 10),
      o('o0', 'c1', '2024-02-10T10:00:00Z', 'completed', 50),
      o('o1', 'c1', '2024-03-01T00:00:00Z', 'completed', 110),
      o('o2', 'c2', '2024-03-05T10:00:00Z', 'paid', null),
      o('o10', 'c6', '2024-03-10T00:00:00Z', 'completed', null),
      o('o5', 'c4', '2024-03-15T12:00:00Z', null, 40),
      o('o3', 'c2', '2024-03-20T10:00:00Z', 'Cancelled', 80),
      o('o4', 'c3', '2024-03-31T23:59:59Z', 'refunded', 25),
      o('o6', 'c3', '2024-04-01T00:00:00Z', 'completed', 999),
      o('o11', 'c6', '2024-06-08T00:00:00Z', 'completed', 5),
      o('o8', 'c4', '2024-06-13T12:00:01Z', 'completed', 5),
    ]);
  const i = (orderId: string, productId: string, quantity: number, unitPrice: number) => ({
    storeId: S,
    orderId,
    productId,
    quantity,
    unitPrice,
  });
  await db
    .insert(orderItems)
    .values([
      i('o7', 'p3', 1, 10),
      i('o1', 'p1', 2, 30),
      i('o1', 'p2', 1, 40),
      i('o2', 'p1', 1, 30),
      i('o2', 'p3', 3, 10),
      i('o5', 'p5', 2, 10),
      i('o5', 'p4', 1, 20),
      i('o3', 'p4', 4, 20),
      i('o4', 'p2', 1, 25),
      i('o6', 'p3', 10, 10),
    ]);
  await db.insert(fraudLabels).values(
    [
      ['o1', false],
      ['o2', true],
      ['o3', false],
      ['o6', true],
      ['o7', true],
    ].map(([orderId, isFraud]) => ({
      storeId: S,
      orderId: orderId as string,
      isFraud: isFraud as boolean,
    })),
  );
  // Known models: a demand and a recommendation model, no fraud model.
  const arch = { kind: 'demand' };
  await db.insert(knownModels).values([
    { modelId: 'dm', kind: 'demand', architecture: arch },
    { modelId: 'rec', kind: 'recommendation', architecture: arch },
  ]);
  const m = (modelId: string, version: number, name: string, value: number, day: string) => ({
    modelId,
    version,
    name,
    value,
    count: 10,
    createdAt: at(`2024-08-${day}T00:00:00Z`),
  });
  await db.insert(localMetrics).values([
    m('dm', 1, 'wape', 0.5, '01'),
    m('dm', 2, 'wape', 0.3, '02'),
    m('dm', 2, 'wape', 0.25, '03'), // latest metric of the latest version: the answer
    m('dm', 1, 'wape', 0.9, '04'), // newer, but of an older version
    m('dm', 3, 'mase', 1.1, '05'), // a newer version, but another metric
    m('rec', 1, 'ndcg_10', 0.4, '01'),
    m('rec', 1, 'hit_rate_10', 0.6, '02'),
    m('ghost', 1, 'pr_auc', 0.7, '01'), // a model the node does not know: no fraud_pr_auc
  ]);
}

/** Every KPI is either a value or has a reason, never both. */
function expectPartition(k: ShopKpis): void {
  const keys = [...Object.keys(k.values), ...Object.keys(k.missing)].sort();
  expect(keys).toEqual([...KPI_IDS].sort());
}

describeStores('computeKpis', (h) => {
  beforeEach(async () => {
    await h.reset();
    await h.db.execute(sql`drop schema if exists kpi_view cascade`);
    await seedShop(h.db);
  });

  it('computes every KPI of a month as defined in KPIS', async () => {
    const k = await computeKpis(h.db, '2024-03', { now: NOW });
    expect(k.period).toBe('2024-03');
    expect(k.periodDays).toBe(31);
    expectPartition(k);
    const v = k.values;
    // Period orders: o1 o2 o10 o5 o3 o4 (o6 at the end instant and o0, o7 before are outside).
    expect(v.orders).toBe(6);
    // Kept (not cancelled/refunded): o1 110 (the total wins over its items' 100), o2 60 (no total:
    // 1×30 + 3×10), o5 40; o10 has no total and no items so it counts nowhere. 110 + 60 + 40.
    expect(v.revenue).toBeCloseTo(210, 9);
    // 210 ÷ 3 orders that count towards revenue.
    expect(v.average_order_value).toBeCloseTo(70, 9);
    // Orders with items: o1 3, o2 4, o5 3, o3 4, o4 1 units = 15 ÷ 5 orders (o10 has none).
    expect(v.items_per_order).toBeCloseTo(3, 9);
    // Customers of the period: c1 (o0 before: repeat), c2 (o2 + o3: repeat), c3, c4, c6 → 2 ÷ 5.
    expect(v.repeat_purchase_rate).toBeCloseTo(0.4, 9);
    // First order in the period: c2 (o3 15 d later: yes), c3 (o6 1 s later: yes), c4 (o8 at 90 d
    // + 1 s: no), c6 (o11 at exactly 90 d: yes); c1 started in February → 3 ÷ 4.
    expect(v.retention_90d).toBeCloseTo(0.75, 9);
    // 'Cancelled' (o3) and 'refunded' (o4) of 6 orders; o5's null status is not cancelled.
    expect(v.cancellation_rate).toBeCloseTo(2 / 6, 9);
    // Labelled period orders: o1 no, o2 yes, o3 no → 1 ÷ 3 (o6, o7 are outside).
    expect(v.fraud_rate).toBeCloseTo(1 / 3, 9);
    // Item revenue of kept orders: toys 60 + 30 = 90, books 40, garden 30, kitchen 20 (o5; o3's 80
    // is cancelled), no category 20 (p5); all 200. Top 3: (90 + 40 + 30) ÷ 200 = 0.8.
    expect(v.top_category_share).toBeCloseTo(0.8, 9);
    // dm: latest version with a wape is 2, its latest wape 0.25; rec: ndcg_10 of version 1.
    expect(v.forecast_error).toBeCloseTo(0.25, 12);
    expect(v.recommendation_ndcg).toBeCloseTo(0.4, 12);
    expect(v.fraud_pr_auc).toBeUndefined();
    expect(k.missing).toEqual({ fraud_pr_auc: 'The node knows no fraud model.' });
    // 6 orders per 31 days → 5.8 per 30 days: small; toys has the largest item revenue.
    expect(k.attributes).toEqual({ sizeBand: 'small', mainCategory: 'toys', orders: 6 });
  });

  it('reads the model metrics named in MODEL_METRICS', () => {
    for (const s of MODEL_KPI_SOURCES) expect(MODEL_METRICS[s.kind]).toContain(s.metric);
  });

  it('accepts quarters and years, and ignores orders outside them', async () => {
    // 2024-Q1 (91 days): o7, o0 and the six March orders.
    const q = await computeKpis(h.db, '2024-Q1', { now: NOW });
    expect(q.periodDays).toBe(91);
    expect(q.values.orders).toBe(8);
    // 2024-04: o6 (c3, whose first order o4 was in March: repeat, not new).
    const apr = await computeKpis(h.db, '2024-04', { now: NOW });
    expect(apr.values).toMatchObject({
      orders: 1,
      revenue: 999,
      average_order_value: 999,
      items_per_order: 10,
      repeat_purchase_rate: 1,
      cancellation_rate: 0,
      fraud_rate: 1,
      top_category_share: 1,
    });
    expect(apr.missing.retention_90d).toBe('No customer placed a first order in the period.');
    expect(apr.attributes.mainCategory).toBe('garden');
    // 2024 (leap year), seen after its end: all 11 orders over 366 days.
    const y = await computeKpis(h.db, '2024', { now: at('2025-01-01T00:00:00Z') });
    expect(y.periodDays).toBe(366);
    expect(y.values.orders).toBe(11);
    // Seen on NOW (2024-09-01) it is running: Jan 1 … Aug 31 = 244 days, still all 11 orders.
    expect((await computeKpis(h.db, '2024', { now: NOW })).periodDays).toBe(244);
  });

  it('gives no order KPIs for an empty period, each with a reason', async () => {
    const k = await computeKpis(h.db, '2023-06', { now: NOW });
    expectPartition(k);
    for (const id of [
      'orders',
      'revenue',
      'average_order_value',
      'items_per_order',
      'repeat_purchase_rate',
      'retention_90d',
      'cancellation_rate',
      'fraud_rate',
      'top_category_share',
    ] as const) {
      expect(k.values[id], id).toBeUndefined();
      expect(k.missing[id], id).toBe('The shop has no orders in the period.');
    }
    // The model KPIs do not depend on the period.
    expect(k.values.forecast_error).toBeCloseTo(0.25, 12);
    expect(k.attributes).toEqual({ sizeBand: 'small', mainCategory: null, orders: 0 });
  });

  it('derives the size band from orders per 30 days, up to now in a running period', async () => {
    // 110 more orders on 2024-05-01 … 2024-05-10 (11 per day).
    await h.db.execute(sql`
      insert into shop.orders (store_id, order_id, customer_id, created_at, status, total)
      select 's1', 'b' || g, 'bulk' || g, timestamptz '2024-05-01 00:00:00+00'
        + ((g / 11) || ' days')::interval, 'completed', 10
      from generate_series(0, 109) g`);
    // Whole month: 110 × 30 ÷ 31 = 106.5 → medium.
    const done = await computeKpis(h.db, '2024-05', { now: NOW });
    expect(done.periodDays).toBe(31);
    expect(done.attributes).toMatchObject({ sizeBand: 'medium', orders: 110 });
    // Every order in the period is a first order, none ordered again: retention 0, not missing.
    expect(done.values.retention_90d).toBe(0);
    expect(done.values.repeat_purchase_rate).toBe(0);
    // No items: no item-based KPIs, with reasons.
    expect(done.missing.items_per_order).toBe('No order in the period has items.');
    expect(done.missing.top_category_share).toBe('No priced item was sold in the period.');
    // Seen on 2024-05-04 12:00, the month is running: the 44 orders of 05-01 … 05-04 up to now
    // (later rows exist, as in a simulation, and are left out) over 4 days begun (ceil 3.5):
    // 44 × 30 ÷ 4 = 330 → medium, where 44 over all 31 days would be small (42.6).
    const running = await computeKpis(h.db, '2024-05', { now: at('2024-05-04T12:00:00Z') });
    expect(running.periodDays).toBe(4);
    expect(running.attributes).toMatchObject({ sizeBand: 'medium', orders: 44 });
    // A period that has not begun: no days, no orders.
    const future = await computeKpis(h.db, '2024-06', { now: at('2024-05-04T12:00:00Z') });
    expect(future.periodDays).toBe(0);
    expect(future.attributes).toEqual({ sizeBand: 'small', mainCategory: null, orders: 0 });
  });

  it('sizes bands at the thresholds of sizeBandOf', async () => {
    await h.db.execute(sql`
      insert into shop.orders (store_id, order_id, customer_id, created_at)
      select 's1', 'c' || g, 'x' || g, timestamptz '2025-06-01 00:00:00+00' + (g || ' minutes')::interval
      from generate_series(0, 999) g`);
    // June 2025: 1000 orders in 30 days → large.
    const k = await computeKpis(h.db, '2025-06', { now: at('2025-07-01T00:00:00Z') });
    expect(k.attributes).toMatchObject({ sizeBand: 'large', orders: 1000 });
    // No total, no items, no status: revenue unknown, and cancellation rate 0 (no one cancelled).
    expect(k.missing.revenue).toBe(
      'No order total or item price is known for the period’s orders.',
    );
    expect(k.missing.average_order_value).toBe(k.missing.revenue);
    expect(k.values.cancellation_rate).toBe(0);
  });

  it('reads through configured views, leaving out what they lack', async () => {
    // A shop's own orders view without status and total: nothing is cancelled, amounts come
    // from the items.
    await h.db.execute(sql`create schema kpi_view`);
    await h.db.execute(sql`
      create view kpi_view.orders as
        select store_id, order_id, customer_id, created_at from shop.orders`);
    const k = await computeKpis(h.db, '2024-03', {
      now: NOW,
      views: { orders: 'kpi_view.orders', fraudLabels: null },
    });
    expectPartition(k);
    // Amounts: o1 100, o2 60, o5 40, o3 80, o4 25 = 305 over 5 orders (o10 has none).
    expect(k.values.revenue).toBeCloseTo(305, 9);
    expect(k.values.average_order_value).toBeCloseTo(61, 9);
    expect(k.missing.cancellation_rate).toBe('The orders relation has no status column.');
    expect(k.missing.fraud_rate).toBe('The store has no fraud labels.');
    // Item revenue now includes o3 and o4: kitchen 20 + 80 = 100, toys 90, books 40 + 25 = 65,
    // garden 30, none 20; top 3 (100 + 90 + 65) ÷ 305.
    expect(k.values.top_category_share).toBeCloseTo(255 / 305, 9);
    expect(k.attributes.mainCategory).toBe('kitchen');
  });

  it('refuses a store of several shops without storeId, and keeps to the one named', async () => {
    await h.db.insert(orders).values({
      storeId: 's2',
      orderId: 'o1',
      customerId: 'c1',
      createdAt: at('2024-03-02T00:00:00Z'),
      status: 'completed',
      total: 1000,
    });
    const err = await rejectionOf(computeKpis(h.db, '2024-03', { now: NOW }));
    expect(isCoopNodeError(err, 'InvalidArgument')).toBe(true);
    expect(err.message).toContain('pass storeId');
    const s1 = await computeKpis(h.db, '2024-03', { now: NOW, storeId: 's1' });
    expect(s1.values.orders).toBe(6);
    expect(s1.values.revenue).toBeCloseTo(210, 9);
    // s2's o1 shares an order id with s1's o1 but not its items or labels.
    const s2 = await computeKpis(h.db, '2024-03', { now: NOW, storeId: 's2' });
    expect(s2.values).toMatchObject({ orders: 1, revenue: 1000, repeat_purchase_rate: 0 });
    expect(s2.missing.items_per_order).toBe('No order in the period has items.');
    expect(s2.missing.fraud_rate).toBe('No order in the period has a fraud label.');
  });

  it('rejects a malformed period naming the accepted forms', async () => {
    for (const bad of ['2024-13', '2024-Q5', '24', 'March 2024', '']) {
      const err = await rejectionOf(computeKpis(h.db, bad, { now: NOW }));
      expect(err.message).toContain('a month (2026-10), a quarter (2026-Q4) or a year (2026)');
    }
  });
});
