import { z } from 'zod';
import { randomWords, type RandomSource } from '../crypto/random';
import { ProtocolError } from '../errors';

/**
 * The cooperative's three models (DESIGN §7) as data both sides agree on: the coordinator needs a
 * model's dimension and initial weights, members need its shape to train and evaluate. Weights
 * travel as one flat float32 vector; {@link manifestOf} says which slice is which layer.
 */
export const MODEL_KINDS = ['demand', 'recommendation', 'fraud'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

/** Days of history a demand example carries, and days it forecasts (one output per horizon). */
export const DEMAND_HISTORY = 28;
export const DEMAND_HORIZON = 28;

/**
 * Demand features at a forecast origin, in vector order. Units (lags and targets alike) are
 * divided by the example's level — the series' mean daily units over the 28 history days, floored
 * at a quarter of its long-run mean — so one network serves shops of any size and forecasts the
 * future relative to the present, whichever way the shop has grown; `level_vs_mean` (log of level
 * over long-run mean) and `log_level` (log1p of the level in units) say where that level stands.
 * `shop_trend` and `ly_week_*` describe the whole shop (all its catalog keys), which is far less
 * noisy than one key's series: the shop's last 7 days against its last 28, and each of the four
 * forecast weeks one year (52 weeks) earlier against the four weeks before them — the holiday and
 * seasonal lift the shop saw last year, `ly_known` 0 when the shop has no such year yet.
 */
export const DEMAND_FEATURES: readonly string[] = [
  ...Array.from({ length: DEMAND_HISTORY }, (_, i) => `lag_${DEMAND_HISTORY - i}`),
  'mean_7',
  'mean_28',
  'shop_trend',
  'ly_week_1',
  'ly_week_2',
  'ly_week_3',
  'ly_week_4',
  'ly_known',
  ...Array.from({ length: 7 }, (_, i) => `dow_${i}`),
  'month_sin',
  'month_cos',
  'price_ratio',
  'promo',
  'holiday',
  'log_level',
  'level_vs_mean',
];

/** Fraud features of one order, in vector order (no identifiers, no raw amounts across shops). */
export const FRAUD_FEATURES: readonly string[] = [
  'log_amount',
  'amount_z',
  'hour_sin',
  'hour_cos',
  'night',
  'log_tenure_days',
  'first_order',
  'log_orders_24h',
  'log_orders_7d',
  'log_prior_orders',
  'ship_bill_mismatch',
  'bill_customer_mismatch',
  'pay_card',
  'pay_wallet',
  'pay_other',
  'log_items',
  'log_distinct_items',
  'top_item_share',
  'risk_medium',
  'risk_high',
];

/** Items of purchase history a recommendation example carries (most recent last). */
export const RECOMMENDATION_HISTORY = 10;

/** Metrics each kind reports in evaluation rounds, in vector order. */
export const MODEL_METRICS: Record<ModelKind, readonly string[]> = {
  demand: ['wape', 'mase', 'loss', 'wape_daily'],
  recommendation: ['hit_rate_10', 'ndcg_10', 'loss'],
  fraud: ['pr_auc', 'recall_at_1fpr', 'loss'],
};

const LayerSchema = z.object({
  units: z.number().int().positive(),
  activation: z.enum(['relu', 'sigmoid', 'tanh', 'linear']),
});

/** A network: an optional mean-pooled embedding, then a dense stack whose last layer is linear. */
export const ArchitectureSchema = z
  .object({
    kind: z.enum(MODEL_KINDS),
    inputDim: z.number().int().positive().optional(),
    embedding: z
      .object({
        vocab: z.number().int().min(2).max(1_000_000),
        dim: z.number().int().positive(),
        history: z.number().int().positive(),
      })
      .optional(),
    layers: z.array(LayerSchema).min(1),
    loss: z.enum(['mse', 'mae', 'bce-logits', 'softmax-ce-logits']),
  })
  .refine((a) => (a.embedding === undefined) !== (a.inputDim === undefined), {
    message: 'an architecture has either inputDim or an embedding',
  })
  .refine((a) => a.layers[a.layers.length - 1]!.activation === 'linear', {
    message: 'the output layer must be linear (losses take logits)',
  });
export type Architecture = z.infer<typeof ArchitectureSchema>;

/** Options of {@link defaultArchitecture}: the sizes an admin may want to change. */
export interface ArchitectureOptions {
  /** Hash buckets for catalog keys (recommendation); bucket 0 is padding. Default 4096. */
  readonly vocab?: number;
  /** Embedding width (recommendation). Default 32. */
  readonly embeddingDim?: number;
  /** Hidden layer width. Defaults: demand 64, recommendation 64, fraud 32. */
  readonly hidden?: number;
}

/**
 * The default network of each kind:
 * - demand: {@link DEMAND_FEATURES} → 64 relu → 64 relu → 28 (scaled units per horizon), mean
 *   squared error: it fits the expected units of each day. A small shop sells most catalog keys on
 *   fewer than half of its days, so the median of a day — what absolute error fits — is 0: a
 *   network trained on it forecast nothing at all (daily WAPE 1.000 for every shop in
 *   `coopfl-sim run --stores 20 --rounds 30`). Expected daily units add up to weekly totals, which
 *   is what the main metric, weekly WAPE, scores;
 * - recommendation: last 10 catalog-key buckets → embedding 32, mean-pooled → 64 relu → vocab
 *   logits, softmax cross-entropy (the item side is shared; a customer's history never leaves);
 * - fraud: {@link FRAUD_FEATURES} → 32 relu → 16 relu → 1 logit, binary cross-entropy.
 */
export function defaultArchitecture(kind: ModelKind, opts: ArchitectureOptions = {}): Architecture {
  switch (kind) {
    case 'demand': {
      const h = opts.hidden ?? 64;
      return {
        kind,
        inputDim: DEMAND_FEATURES.length,
        layers: [
          { units: h, activation: 'relu' },
          { units: h, activation: 'relu' },
          { units: DEMAND_HORIZON, activation: 'linear' },
        ],
        loss: 'mse',
      };
    }
    case 'recommendation': {
      const vocab = opts.vocab ?? 4096;
      return {
        kind,
        embedding: { vocab, dim: opts.embeddingDim ?? 32, history: RECOMMENDATION_HISTORY },
        layers: [
          { units: opts.hidden ?? 64, activation: 'relu' },
          { units: vocab, activation: 'linear' },
        ],
        loss: 'softmax-ce-logits',
      };
    }
    case 'fraud': {
      const h = opts.hidden ?? 32;
      return {
        kind,
        inputDim: FRAUD_FEATURES.length,
        layers: [
          { units: h, activation: 'relu' },
          { units: Math.max(1, h >> 1), activation: 'relu' },
          { units: 1, activation: 'linear' },
        ],
        loss: 'bce-logits',
      };
    }
  }
}

/** One variable's place in the flat weight vector. */
export interface ManifestEntry {
  readonly name: string;
  readonly shape: readonly number[];
  readonly offset: number;
  readonly size: number;
  /** How {@link initialWeights} fills it. */
  readonly init: 'embedding' | 'glorot' | 'zeros';
}

/** The layer manifest: variables in order (embedding table, then each dense kernel and bias). */
export function manifestOf(arch: Architecture): { entries: ManifestEntry[]; dim: number } {
  const parsed = ArchitectureSchema.safeParse(arch);
  if (!parsed.success) {
    throw new ProtocolError('InvalidConfig', `architecture: ${parsed.error.issues[0]!.message}`);
  }
  const entries: ManifestEntry[] = [];
  let offset = 0;
  const push = (name: string, shape: number[], init: ManifestEntry['init']) => {
    const size = shape.reduce((a, b) => a * b, 1);
    entries.push({ name, shape, offset, size, init });
    offset += size;
  };
  let width: number;
  if (arch.embedding) {
    push('embedding', [arch.embedding.vocab, arch.embedding.dim], 'embedding');
    width = arch.embedding.dim;
  } else {
    width = arch.inputDim!;
  }
  arch.layers.forEach((l, i) => {
    push(`dense_${i}/kernel`, [width, l.units], 'glorot');
    push(`dense_${i}/bias`, [l.units], 'zeros');
    width = l.units;
  });
  return { entries, dim: offset };
}

/**
 * Initial weights from a random source: Glorot-uniform kernels, zero biases, embedding rows
 * uniform in ±0.05 (as Keras does). The coordinator makes version 0 with it, so every member
 * starts from the same point.
 */
export function initialWeights(arch: Architecture, rng: RandomSource): Float32Array {
  const { entries, dim } = manifestOf(arch);
  const out = new Float32Array(dim);
  const words = randomWords(rng, dim);
  for (const e of entries) {
    if (e.init === 'zeros') continue;
    const limit =
      e.init === 'embedding' ? 0.05 : Math.sqrt(6 / (e.shape[0]! + e.shape[e.shape.length - 1]!));
    for (let i = e.offset; i < e.offset + e.size; i++) {
      out[i] = (2 * (words[i]! / 4294967296) - 1) * limit;
    }
  }
  return out;
}

/**
 * The embedding bucket of a catalog key: 32-bit FNV-1a of its UTF-8 bytes, mapped to
 * [1, vocab) (0 is padding). Every member computes the same bucket without sharing a vocabulary;
 * distinct keys may share a bucket when the catalog is larger than the vocabulary.
 */
export function catalogBucket(catalogKey: string, vocab: number): number {
  if (!Number.isInteger(vocab) || vocab < 2) {
    throw new ProtocolError('InvalidArgument', 'vocab must be an integer ≥ 2');
  }
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(catalogKey)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return 1 + (h % (vocab - 1));
}
