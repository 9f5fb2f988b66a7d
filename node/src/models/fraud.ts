import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { FRAUD_FEATURES, type Architecture } from '@coopfl/protocol/models';
import { CoopNodeError } from '../errors';
import type { StoreSource } from '../store/source';
import { averagePrecision, binaryCrossEntropy, recallAtFpr } from './metrics';
import {
  DAY_MS,
  bool,
  dayOf,
  isoDay,
  itemsByOrder,
  readCustomers,
  readItems,
  readOrders,
  readProducts,
  readShopRows,
  str,
} from './shop-data';
import { splitDays } from './split';
import { predictAll, trainLocal, type ExampleSet } from './train-loop';
import type { Metrics, ModelRuntime, PreparedData, PrepareOptions } from './types';
import { withModel } from './weights';

const WIDTH = FRAUD_FEATURES.length;
/**
 * Fraud is rare (0.5–3 % of orders): each positive training order appears this many times per
 * epoch. The factor is the same on every shop, so the bias it puts in the logit is a known
 * constant, removed at scoring by King & Zeng's prior correction (logit − ln factor) and scores
 * stay calibrated probabilities. Under record-level DP there is no oversampling (a record must
 * appear once per epoch for the accounting at q = batchSize / examples): DP training sees the
 * natural class balance and its scores are under-estimated by the same constant factor in odds,
 * which leaves the ranking metrics (PR-AUC, recall at 1 % FPR) unchanged.
 */
export const FRAUD_POSITIVE_OVERSAMPLING = 10;
const LOGIT_OFFSET = Math.log(FRAUD_POSITIVE_OVERSAMPLING);

/**
 * An order to score, as the node's HTTP API and CLI accept it. Customer history (tenure,
 * velocity) comes from the shop's prepared data, not from the request.
 */
export const FraudOrderSchema = z.object({
  customerId: z.string().min(1),
  createdAt: z
    .string()
    .refine((s) => /^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(Date.parse(s)), {
      message: 'must be an ISO 8601 date-time',
    }),
  total: z.number().nonnegative().finite().optional(),
  paymentMethod: z.string().optional(),
  billingCountry: z.string().optional(),
  shippingCountry: z.string().optional(),
  riskLevel: z.enum(['low', 'medium', 'high']).optional(),
  items: z
    .array(
      z.object({
        productId: z.string().min(1),
        quantity: z.number().int().positive(),
        unitPrice: z.number().nonnegative().finite().optional(),
      }),
    )
    .min(1),
});
export type FraudOrder = z.infer<typeof FraudOrderSchema>;

/** An order as the feature function reads it (time in epoch ms). */
interface OrderFacts {
  readonly customerId: string;
  readonly createdAt: number;
  readonly total?: number | undefined;
  readonly paymentMethod?: string | undefined;
  readonly billingCountry?: string | undefined;
  readonly shippingCountry?: string | undefined;
  readonly riskLevel?: string | undefined;
  readonly items: readonly {
    readonly productId: string;
    readonly quantity: number;
    readonly unitPrice?: number | undefined;
  }[];
}

/** What features need to know about the shop beyond the order itself. */
export interface FraudContext {
  readonly customers: ReadonlyMap<
    string,
    { readonly createdAt?: number; readonly country?: string }
  >;
  /** Each customer's order times, ascending. */
  readonly orderTimes: ReadonlyMap<string, readonly number[]>;
  readonly prices: ReadonlyMap<string, number>;
  /** Mean and standard deviation of log(1 + amount) over training orders. */
  readonly logAmountMean: number;
  readonly logAmountStd: number;
}

/** The fraud model's prepared data for one shop. */
export interface FraudData extends PreparedData {
  readonly kind: 'fraud';
  readonly train: ExampleSet;
  readonly validation: ExampleSet;
  readonly test: ExampleSet;
  /** Order amounts of the test split (the amount-rule baseline). */
  readonly testAmounts: Float64Array;
  readonly context: FraudContext;
}

/** How a payment method is grouped: card, wallet (PayPal, Apple/Google/Shop Pay …) or other. */
export function paymentGroup(method: string | undefined): 'card' | 'wallet' | 'other' | undefined {
  if (method === undefined || method.trim() === '') return undefined;
  const m = method.toLowerCase();
  if (/paypal|apple|google|shop ?pay|amazon|wallet|venmo|alipay|wechat|samsung/.test(m)) {
    return 'wallet';
  }
  if (/card|credit|debit|visa|master|amex|american express|maestro|discover/.test(m)) return 'card';
  return 'other';
}

function amountOf(o: OrderFacts, prices: ReadonlyMap<string, number>): number {
  if (o.total !== undefined) return o.total;
  let s = 0;
  for (const it of o.items) s += it.quantity * (it.unitPrice ?? prices.get(it.productId) ?? 0);
  return s;
}

/** Orders among `times` (ascending) strictly before `t`. */
function countBefore(times: readonly number[], t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The features of one order, in `FRAUD_FEATURES` order, written into `out` at `at`. Hours are UTC
 * (the store keeps no time zone). Unknown fields give 0 (no mismatch, no payment group).
 */
export function fraudFeatures(o: OrderFacts, ctx: FraudContext, out: Float32Array, at = 0): void {
  const amount = amountOf(o, ctx.prices);
  const logAmount = Math.log1p(Math.max(0, amount));
  const z = (logAmount - ctx.logAmountMean) / ctx.logAmountStd;
  const date = new Date(o.createdAt);
  const hour = date.getUTCHours() + date.getUTCMinutes() / 60;
  const customer = ctx.customers.get(o.customerId);
  const times = ctx.orderTimes.get(o.customerId) ?? [];
  const prior = countBefore(times, o.createdAt);
  const since = customer?.createdAt ?? times[0] ?? o.createdAt;
  const tenureDays = Math.max(0, (o.createdAt - since) / DAY_MS);
  const pay = paymentGroup(o.paymentMethod);
  let units = 0;
  let top = 0;
  let value = 0;
  const distinct = new Set<string>();
  for (const it of o.items) {
    units += it.quantity;
    distinct.add(it.productId);
    const v = it.quantity * (it.unitPrice ?? ctx.prices.get(it.productId) ?? 1);
    value += v;
    top = Math.max(top, v);
  }
  const differ = (a: string | undefined, b: string | undefined) =>
    a !== undefined && b !== undefined && a.toUpperCase() !== b.toUpperCase() ? 1 : 0;
  const values = [
    logAmount,
    Math.max(-5, Math.min(5, z)),
    Math.sin((2 * Math.PI * hour) / 24),
    Math.cos((2 * Math.PI * hour) / 24),
    hour < 6 ? 1 : 0,
    Math.log1p(tenureDays),
    prior === 0 ? 1 : 0,
    Math.log1p(prior - countBefore(times, o.createdAt - DAY_MS)),
    Math.log1p(prior - countBefore(times, o.createdAt - 7 * DAY_MS)),
    Math.log1p(prior),
    differ(o.shippingCountry, o.billingCountry),
    differ(o.billingCountry, customer?.country),
    pay === 'card' ? 1 : 0,
    pay === 'wallet' ? 1 : 0,
    pay === 'other' ? 1 : 0,
    Math.log1p(units),
    Math.log1p(distinct.size),
    value > 0 ? top / value : 0,
    o.riskLevel === 'medium' ? 1 : 0,
    o.riskLevel === 'high' ? 1 : 0,
  ];
  out.set(values, at);
}

/**
 * Prepares one shop's fraud data: one example per order (cancelled ones included: fraud is often
 * cancelled), labelled from `fraud_labels` (an order without a label is not fraud), split by order
 * date.
 *
 * @throws CoopNodeError `StoreSchemaMismatch` when the shop has no fraud_labels relation (the
 *   model skips such a shop rather than guess labels); `InsufficientData` without fraud in the
 *   training period.
 */
async function prepare(source: StoreSource, opts: PrepareOptions): Promise<FraudData> {
  if (!source.has('fraudLabels')) {
    throw new CoopNodeError(
      'StoreSchemaMismatch',
      'the fraud model needs the fraud_labels relation (confirmed fraud outcomes); this shop has none',
    );
  }
  const labels = new Set<string>();
  await readShopRows(source, 'fraudLabels', opts.storeId, (r) => {
    const id = str(r.order_id);
    if (id !== undefined && bool(r.is_fraud) === true) labels.add(id);
    return undefined;
  });
  const prices = new Map<string, number>();
  for (const p of await readProducts(source, opts.storeId)) {
    if (p.price !== undefined) prices.set(p.productId, p.price);
  }
  const customers = new Map(
    (await readCustomers(source, opts.storeId)).map((c) => [c.customerId, c]),
  );
  const orders = (await readOrders(source, opts.storeId)).sort(
    (a, b) => a.createdAt - b.createdAt || (a.orderId < b.orderId ? -1 : 1),
  );
  const items = itemsByOrder(await readItems(source, opts.storeId));
  if (orders.length === 0) throw new CoopNodeError('InsufficientData', 'the shop has no orders');
  const orderTimes = new Map<string, number[]>();
  for (const o of orders) {
    const l = orderTimes.get(o.customerId);
    if (l) l.push(o.createdAt);
    else orderTimes.set(o.customerId, [o.createdAt]);
  }
  const split = splitDays(
    dayOf(orders[0]!.createdAt),
    dayOf(orders[orders.length - 1]!.createdAt),
    opts,
  );
  const facts = orders.map((o) => ({ ...o, items: items.get(o.orderId) ?? [] }));
  const partOf = (t: number) => {
    const d = dayOf(t);
    return d < split.validationFrom ? 'train' : d < split.testFrom ? 'validation' : 'test';
  };
  let s = 0;
  let s2 = 0;
  let n = 0;
  for (const o of facts) {
    if (partOf(o.createdAt) !== 'train') continue;
    const v = Math.log1p(Math.max(0, amountOf(o, prices)));
    s += v;
    s2 += v * v;
    n++;
  }
  const logAmountMean = n > 0 ? s / n : 0;
  const logAmountStd = Math.max(
    1e-3,
    Math.sqrt(Math.max(0, n > 0 ? s2 / n - logAmountMean ** 2 : 1)),
  );
  const context: FraudContext = { customers, orderTimes, prices, logAmountMean, logAmountStd };
  const parts = { train: [] as number[], validation: [] as number[], test: [] as number[] };
  facts.forEach((o, i) => parts[partOf(o.createdAt)].push(i));
  const set = (rows: number[]): ExampleSet => {
    const x = new Float32Array(rows.length * WIDTH);
    const y = new Float32Array(rows.length);
    rows.forEach((i, r) => {
      fraudFeatures(facts[i]!, context, x, r * WIDTH);
      y[r] = labels.has(facts[i]!.orderId) ? 1 : 0;
    });
    return { x, width: WIDTH, y, yWidth: 1, size: rows.length };
  };
  const train = set(parts.train);
  if (!train.y.some((v) => v > 0)) {
    throw new CoopNodeError('InsufficientData', 'no confirmed fraud in the training period');
  }
  return {
    kind: 'fraud',
    counts: { train: train.size, validation: parts.validation.length, test: parts.test.length },
    split: { validationFrom: isoDay(split.validationFrom), testFrom: isoDay(split.testFrom) },
    train,
    validation: set(parts.validation),
    test: set(parts.test),
    testAmounts: Float64Array.from(parts.test, (i) => amountOf(facts[i]!, prices)),
    context,
  };
}

/** Row indices of one epoch: every row once, positives {@link FRAUD_POSITIVE_OVERSAMPLING} times. */
function oversampledRows(set: ExampleSet): Int32Array {
  const rows: number[] = [];
  for (let i = 0; i < set.size; i++) {
    const times = set.y[i]! > 0 ? FRAUD_POSITIVE_OVERSAMPLING : 1;
    for (let k = 0; k < times; k++) rows.push(i);
  }
  return Int32Array.from(rows);
}

/** Calibrated fraud probabilities (oversampling's prior shift removed) of every row of a set. */
function probabilities(arch: Architecture, weights: Float32Array, set: ExampleSet): Float32Array {
  return withModel(arch, weights, (m) =>
    predictAll(m, set, (z) => tf.sigmoid(tf.sub<tf.Tensor2D>(z, LOGIT_OFFSET))),
  );
}

function fraudMetrics(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  withLoss: boolean,
): Metrics {
  const m: Record<string, number> = {
    pr_auc: averagePrecision(scores, labels),
    recall_at_1fpr: recallAtFpr(scores, labels, 0.01),
  };
  if (withLoss) m.loss = binaryCrossEntropy(scores, labels);
  return m;
}

/**
 * The fraud model (DESIGN §7): the probability that an order is fraudulent, from its amount, time,
 * the customer's tenure and velocity, country mismatches, payment method, basket shape and the
 * platform's risk level. Baseline `amount_rule` scores by amount alone (it has no loss: an amount
 * is not a probability).
 * @example
 * const data = await fraudRuntime.prepare(source, { arch }); // throws without fraud_labels
 * fraudRuntime.evaluate(arch, weights, data); // { pr_auc, recall_at_1fpr, loss }
 */
export const fraudRuntime: ModelRuntime<FraudData> = {
  kind: 'fraud',
  prepare,
  train: (arch, global, data, cfg) =>
    trainLocal(arch, global, data.train, cfg, { epochRows: oversampledRows(data.train) }),
  evaluate(arch, weights, data, split = 'test') {
    const set = split === 'test' ? data.test : data.validation;
    return fraudMetrics(probabilities(arch, weights, set), set.y, true);
  },
  baselines(data) {
    return { amount_rule: fraudMetrics(data.testAmounts, data.test.y, false) };
  },
};

/**
 * Scores one order of the shop: the probability that it is fraudulent. The request is validated
 * with {@link FraudOrderSchema}; tenure and velocity come from the customer's orders in `data`.
 *
 * @throws CoopNodeError `InvalidArgument` naming the first malformed field.
 * @example
 * const { score } = scoreOrder(arch, weights, data, {
 *   customerId: 'C000017', createdAt: '2025-03-01T02:14:00Z', paymentMethod: 'card',
 *   items: [{ productId: 'SKU00042', quantity: 3 }],
 * });
 */
export function scoreOrder(
  arch: Architecture,
  weights: Float32Array,
  data: FraudData,
  order: unknown,
): { score: number } {
  const parsed = FraudOrderSchema.safeParse(order);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map(String).join('.') || 'order';
    throw new CoopNodeError('InvalidArgument', `order: ${path}: ${issue.message}`);
  }
  const o = parsed.data;
  const x = new Float32Array(WIDTH);
  fraudFeatures({ ...o, createdAt: Date.parse(o.createdAt) }, data.context, x);
  const [score] = probabilities(arch, weights, {
    x,
    width: WIDTH,
    y: new Float32Array(1),
    yWidth: 1,
    size: 1,
  });
  return { score: score! };
}
