import * as tf from '@tensorflow/tfjs-core';
import { RECOMMENDATION_HISTORY, catalogBucket, type Architecture } from '@coopfl/protocol/models';
import { CoopNodeError } from '../errors';
import type { StoreSource } from '../store/source';
import { logits } from '../train/forward';
import type { PlainModel } from '../train/model';
import { hitRateAtK, ndcgAtK, rankOf } from './metrics';
import { isCancelled, isoDay, dayOf, readItems, readOrders, readProducts } from './shop-data';
import { packRows, splitDays } from './split';
import {
  emptySet,
  offsetBatch,
  readTidy,
  rowRange,
  trainLocal,
  type ExampleSet,
} from './train-loop';
import type { Metrics, ModelRuntime, PreparedData, PrepareOptions } from './types';
import { withModel } from './weights';

const H = RECOMMENDATION_HISTORY;
const K = 10;

/** The recommendation model's prepared data for one shop. */
export interface RecommendationData extends PreparedData {
  readonly kind: 'recommendation';
  /** Hash buckets of the architecture (bucket 0 is padding). */
  readonly vocab: number;
  /** Ids [n, 10] (previous buckets, left-padded with 0) → next bucket. */
  readonly train: ExampleSet;
  readonly validation: ExampleSet;
  readonly test: ExampleSet;
  /** Purchases per bucket in the training part (the popularity baseline). */
  readonly popularity: Float64Array;
  /** The shop's prior over buckets, added to the shared network's logits (see {@link assortmentPrior}). */
  readonly prior: Float32Array;
  /** Each customer's purchased buckets in time order (all of them: serving uses full history). */
  readonly histories: ReadonlyMap<string, readonly number[]>;
  /** Products each customer has bought (never recommended again). */
  readonly bought: ReadonlyMap<string, ReadonlySet<string>>;
  /** The shop's products in each bucket, most purchased first. */
  readonly bucketProducts: ReadonlyMap<number, readonly string[]>;
  /** Catalog key of each product of the shop. */
  readonly productKeys: ReadonlyMap<string, string>;
  /** The shop's products by purchases, most first, with their share of purchases. */
  readonly popularProducts: readonly { readonly productId: string; readonly share: number }[];
}

function vocabOf(arch: Architecture): number {
  if (!arch.embedding) {
    throw new CoopNodeError(
      'InvalidArgument',
      'the recommendation architecture needs an embedding over catalog-key buckets',
    );
  }
  return arch.embedding.vocab;
}

/** The prior of a bucket the shop does not carry: e^−30 ≈ 1e−13 relative to a carried one. */
const NOT_CARRIED = -30;

/**
 * The shop's own prior over buckets: 0 for the buckets of the products it carries, far below for
 * the rest (and the padding bucket), which can never be the answer — the shop cannot sell them.
 * It is added to the shared network's logits in training, evaluation and serving (logit
 * adjustment, Menon et al., ICLR 2021): the network learns how a customer's history ranks what
 * the shop sells, and each shop's assortment stays local instead of being averaged across shops.
 * It depends on the product list only, never on a customer's purchase, so it costs no privacy
 * under record-level DP. (A prior from the shop's purchase counts scored no better, measured on
 * synthetic cooperatives with validation-chosen epochs.)
 */
export function assortmentPrior(vocab: number, carried: Iterable<number>): Float32Array {
  const prior = new Float32Array(vocab).fill(NOT_CARRIED);
  for (const b of carried) if (b > 0) prior[b] = 0;
  return prior;
}

/** The model input for the purchases before position `i`: the last 10 buckets, left-padded. */
function historyIds(seq: readonly number[], i: number): Int32Array {
  const ids = new Int32Array(H);
  const from = Math.max(0, i - H);
  ids.set(seq.slice(from, i), H - (i - from));
  return ids;
}

/**
 * Prepares one shop's recommendation data: each customer's purchases in time order as catalog-key
 * buckets; leave-last-out split (the last purchase is test, the second-last validation, the rest
 * training; customers with fewer than 3 purchases only train). Cancelled orders are left out.
 */
async function prepare(source: StoreSource, opts: PrepareOptions): Promise<RecommendationData> {
  const vocab = vocabOf(opts.arch);
  const products = await readProducts(source, opts.storeId);
  const productKeys = new Map(products.map((p) => [p.productId, p.catalogKey]));
  const orders = (await readOrders(source, opts.storeId))
    .filter((o) => !isCancelled(o))
    .sort((a, b) => a.createdAt - b.createdAt || (a.orderId < b.orderId ? -1 : 1));
  const lines = new Map<string, string[]>();
  for (const it of await readItems(source, opts.storeId)) {
    if (!productKeys.has(it.productId)) continue;
    const l = lines.get(it.orderId);
    if (l) l.push(it.productId);
    else lines.set(it.orderId, [it.productId]);
  }
  const seqs = new Map<string, string[]>();
  let firstDay = Infinity;
  let lastDay = -Infinity;
  for (const o of orders) {
    const l = lines.get(o.orderId);
    if (!l) continue;
    firstDay = Math.min(firstDay, dayOf(o.createdAt));
    lastDay = Math.max(lastDay, dayOf(o.createdAt));
    const s = seqs.get(o.customerId);
    if (s) s.push(...l);
    else seqs.set(o.customerId, [...l]);
  }
  const bucketOf = new Map<string, number>();
  for (const [pid, key] of productKeys) bucketOf.set(pid, catalogBucket(key, vocab));
  const popularity = new Float64Array(vocab);
  const productCount = new Map<string, number>();
  const histories = new Map<string, number[]>();
  const bought = new Map<string, Set<string>>();
  const parts = {
    train: { x: [] as Int32Array[], y: [] as number[] },
    validation: { x: [] as Int32Array[], y: [] as number[] },
    test: { x: [] as Int32Array[], y: [] as number[] },
  };
  for (const [customer, pids] of seqs) {
    const seq = pids.map((p) => bucketOf.get(p)!);
    histories.set(customer, seq);
    bought.set(customer, new Set(pids));
    const n = seq.length;
    const held = n >= 3 ? 2 : 0;
    pids.forEach((p, i) => {
      productCount.set(p, (productCount.get(p) ?? 0) + 1);
      if (i < n - held) popularity[seq[i]!]! += 1;
    });
    for (let i = 1; i < n; i++) {
      const part = held === 0 || i < n - 2 ? 'train' : i === n - 2 ? 'validation' : 'test';
      parts[part].x.push(historyIds(seq, i));
      parts[part].y.push(seq[i]!);
    }
  }
  const prior = assortmentPrior(vocab, bucketOf.values());
  if (parts.train.x.length === 0) {
    throw new CoopNodeError(
      'InsufficientData',
      'recommendation needs customers with at least two purchases; the shop has none',
    );
  }
  const set = (p: keyof typeof parts): ExampleSet =>
    parts[p].x.length === 0
      ? emptySet(H, 1, true)
      : {
          x: packRows(parts[p].x, H, (n) => new Int32Array(n)),
          width: H,
          y: Int32Array.from(parts[p].y),
          yWidth: 1,
          size: parts[p].x.length,
          logitOffset: { table: prior, rows: null },
        };
  const total = [...productCount.values()].reduce((a, b) => a + b, 0);
  const popularProducts = [...productCount.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([productId, c]) => ({ productId, share: c / total }));
  const bucketProducts = new Map<number, string[]>();
  for (const { productId } of popularProducts) {
    const b = bucketOf.get(productId)!;
    const l = bucketProducts.get(b);
    if (l) l.push(productId);
    else bucketProducts.set(b, [productId]);
  }
  // Products never bought come after bought ones of their bucket.
  for (const p of products) {
    if (productCount.has(p.productId)) continue;
    const b = bucketOf.get(p.productId)!;
    const l = bucketProducts.get(b);
    if (l) l.push(p.productId);
    else bucketProducts.set(b, [p.productId]);
  }
  // Leave-last-out has no date boundary; report the time split an equivalent date split would use.
  const split = splitDays(firstDay, lastDay, opts);
  const train = set('train');
  const validation = set('validation');
  const test = set('test');
  return {
    kind: 'recommendation',
    counts: { train: train.size, validation: validation.size, test: test.size },
    split: { validationFrom: isoDay(split.validationFrom), testFrom: isoDay(split.testFrom) },
    vocab,
    train,
    validation,
    test,
    popularity,
    prior,
    histories,
    bought,
    bucketProducts,
    productKeys,
    popularProducts,
  };
}

/** Log-probabilities over buckets for each row, handed to `visit` a chunk at a time. */
function visitLogProbs(
  model: PlainModel,
  set: ExampleSet,
  visit: (row: number, logp: Float32Array) => void,
  chunk = 256,
): void {
  for (let start = 0; start < set.size; start += chunk) {
    const n = Math.min(chunk, set.size - start);
    const vocab = model.dense[model.dense.length - 1]!.b.shape[0];
    const values = readTidy(() => {
      const x = tf.tensor2d(set.x.subarray(start * H, (start + n) * H), [n, H], 'int32');
      const offset = set.logitOffset
        ? offsetBatch(set.logitOffset, rowRange(start, n), vocab)
        : undefined;
      return tf.logSoftmax(logits(model, x, offset));
    });
    for (let r = 0; r < n; r++) visit(start + r, values.subarray(r * vocab, (r + 1) * vocab));
  }
}

/** HitRate@10 and NDCG@10 (padding bucket excluded from ranking) and mean cross-entropy. */
function rankingMetrics(
  set: ExampleSet,
  scoresOf: (visit: (row: number, scores: ArrayLike<number>, logp: number) => void) => void,
): Metrics {
  const ranks: number[] = [];
  let loss = 0;
  scoresOf((row, scores, logp) => {
    ranks.push(rankOf(scores, set.y[row]!, [0]));
    loss -= logp;
  });
  return {
    hit_rate_10: hitRateAtK(ranks, K),
    ndcg_10: ndcgAtK(ranks, K),
    loss: ranks.length > 0 ? loss / ranks.length : Number.NaN,
  };
}

/**
 * The recommendation model (DESIGN §7): the next catalog-key bucket a customer buys, from the
 * buckets of their last 10 purchases. The shared part is the item side (embedding and output
 * layer over catalog keys); customer histories never leave the shop.
 * @example
 * const data = await recommendationRuntime.prepare(source, { arch });
 * recommendationRuntime.evaluate(arch, weights, data); // { hit_rate_10, ndcg_10, loss }
 */
export const recommendationRuntime: ModelRuntime<RecommendationData> = {
  kind: 'recommendation',
  prepare,
  train: (arch, global, data, cfg) => trainLocal(arch, global, data.train, cfg),
  evaluate(arch, weights, data, split = 'test') {
    const set = split === 'test' ? data.test : data.validation;
    return withModel(arch, weights, (m) =>
      rankingMetrics(set, (visit) =>
        visitLogProbs(m, set, (row, logp) => visit(row, logp, logp[set.y[row]!]!)),
      ),
    );
  },
  baselines(data) {
    const total = data.popularity.reduce((a, b) => a + b, 0);
    const set = data.test;
    // Laplace-smoothed purchase shares, so the baseline's cross-entropy is finite.
    const logp = (b: number) => Math.log((data.popularity[b]! + 1) / (total + data.vocab));
    return {
      popularity: rankingMetrics(set, (visit) => {
        for (let r = 0; r < set.size; r++) visit(r, data.popularity, logp(set.y[r]!));
      }),
    };
  },
};

/** A served recommendation. `fallback`: the customer is unknown, so these are the shop's best sellers. */
export interface Recommendations {
  readonly customerId: string;
  readonly items: {
    readonly catalogKey: string;
    readonly productId: string;
    readonly score: number;
  }[];
  readonly fallback?: true;
}

/**
 * The top-`k` products for a customer: buckets by the model's probability, each mapped back to the
 * shop's most purchased product in it, skipping what the customer already bought. An unknown
 * customer gets the shop's best sellers (`fallback: true`, score = share of purchases).
 *
 * @throws CoopNodeError `InvalidArgument` for a bad `k`.
 * @example
 * const { items } = recommend(arch, weights, data, 'C000042', 10);
 */
export function recommend(
  arch: Architecture,
  weights: Float32Array,
  data: RecommendationData,
  customerId: string,
  k = 10,
): Recommendations {
  if (!Number.isInteger(k) || k < 1 || k > 100) {
    throw new CoopNodeError('InvalidArgument', 'k must be an integer in [1, 100]');
  }
  const history = data.histories.get(customerId);
  if (!history) {
    return {
      customerId,
      fallback: true,
      items: data.popularProducts.slice(0, k).map(({ productId, share }) => ({
        catalogKey: data.productKeys.get(productId)!,
        productId,
        score: share,
      })),
    };
  }
  const ids = historyIds(history, history.length);
  const probs = withModel(arch, weights, (m) =>
    readTidy(() =>
      tf.softmax(
        logits(m, tf.tensor2d(ids, [1, H], 'int32'), tf.tensor2d(data.prior, [1, data.vocab])),
      ),
    ),
  );
  const order = Array.from({ length: probs.length - 1 }, (_, i) => i + 1).sort(
    (a, b) => probs[b]! - probs[a]! || a - b,
  );
  const bought = data.bought.get(customerId) ?? new Set<string>();
  const items: Recommendations['items'] = [];
  for (const b of order) {
    if (items.length >= k) break;
    const productId = data.bucketProducts.get(b)?.find((p) => !bought.has(p));
    if (productId === undefined) continue;
    items.push({ catalogKey: data.productKeys.get(productId)!, productId, score: probs[b]! });
  }
  return { customerId, items };
}
