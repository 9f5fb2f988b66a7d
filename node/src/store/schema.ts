import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  check,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgSchema,
  primaryKey,
  text,
  uuid,
} from 'drizzle-orm/pg-core';
import { bytea, createdAt, money, oneOf, timestamptz } from './columns';

/**
 * The node's tables (DESIGN §3), in two PostgreSQL schemas:
 *
 * - `shop`: the canonical commerce schema, one table per canonical CSV file. It is what the demo,
 *   the simulator and CSV import fill; a real shop may keep its own tables instead and map them
 *   onto these shapes with SQL views (see `StoreSource`). Primary keys are the natural keys, so
 *   importing the same rows again is an idempotent upsert. There are no foreign keys between
 *   them: files arrive in any order, a rejected parent row must not take good children with it,
 *   and a shop's own views could not promise them anyway.
 * - `coopfl`: the node's own state (keys, model versions, consent, local metrics, privacy spent,
 *   import runs). The node writes only here and, during an import, to `shop`.
 *
 * drizzle-kit generates `node/drizzle/*.sql` from this file (`pnpm db:generate` in `node/`).
 */
export const shopSchema = pgSchema('shop');
export const coopflSchema = pgSchema('coopfl');

/** Values of `orders.risk_level`, Shopify's fraud-analysis verdict. */
export const RISK_LEVELS = ['low', 'medium', 'high'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

/** Optional: one row per shop, created by imports for every `store_id` they see. */
export const stores = shopSchema.table('stores', {
  storeId: text('store_id').primaryKey(),
  /** ISO 4217 code of the shop's prices, when the source says (Shopify's `Currency`). */
  currency: text('currency'),
});

export const products = shopSchema.table(
  'products',
  {
    storeId: text('store_id').notNull(),
    /** The shop's own product id; never leaves the node. */
    productId: text('product_id').notNull(),
    /** The cooperative's shared key (supplier SKU, GTIN, or category): what models speak. */
    catalogKey: text('catalog_key').notNull(),
    category: text('category'),
    price: money('price'),
  },
  (t) => [
    primaryKey({ name: 'products_pkey', columns: [t.storeId, t.productId] }),
    index('products_catalog_key_idx').on(t.catalogKey),
    check('products_price_nonnegative', sql`${t.price} >= 0`),
  ],
);

export const customers = shopSchema.table(
  'customers',
  {
    storeId: text('store_id').notNull(),
    /** A shop id or a keyed hash of one (e-mail addresses are never stored in clear). */
    customerId: text('customer_id').notNull(),
    createdAt: timestamptz('created_at'),
    country: text('country'),
  },
  (t) => [primaryKey({ name: 'customers_pkey', columns: [t.storeId, t.customerId] })],
);

export const orders = shopSchema.table(
  'orders',
  {
    storeId: text('store_id').notNull(),
    orderId: text('order_id').notNull(),
    customerId: text('customer_id').notNull(),
    createdAt: timestamptz('created_at').notNull(),
    status: text('status'),
    paymentMethod: text('payment_method'),
    billingCountry: text('billing_country'),
    shippingCountry: text('shipping_country'),
    total: money('total'),
    /**
     * The platform's own fraud-risk verdict (Shopify `Risk Level`), kept as a weak *feature* only.
     * It is never a label: `fraud_labels.is_fraud` holds confirmed outcomes (chargebacks), and
     * training a model on another model's guesses would just copy that model.
     */
    riskLevel: text('risk_level', { enum: RISK_LEVELS }),
  },
  (t) => [
    primaryKey({ name: 'orders_pkey', columns: [t.storeId, t.orderId] }),
    index('orders_customer_idx').on(t.storeId, t.customerId),
    index('orders_created_at_idx').on(t.storeId, t.createdAt),
    check('orders_risk_level_check', oneOf(t.riskLevel, RISK_LEVELS)),
  ],
);

export const orderItems = shopSchema.table(
  'order_items',
  {
    storeId: text('store_id').notNull(),
    orderId: text('order_id').notNull(),
    productId: text('product_id').notNull(),
    quantity: integer('quantity').notNull(),
    unitPrice: money('unit_price'),
  },
  (t) => [
    primaryKey({ name: 'order_items_pkey', columns: [t.storeId, t.orderId, t.productId] }),
    index('order_items_product_idx').on(t.storeId, t.productId),
    check('order_items_quantity_positive', sql`${t.quantity} > 0`),
    check('order_items_unit_price_nonnegative', sql`${t.unitPrice} >= 0`),
  ],
);

/** Confirmed fraud outcomes (chargebacks, manual review), one per order. */
export const fraudLabels = shopSchema.table(
  'fraud_labels',
  {
    storeId: text('store_id').notNull(),
    orderId: text('order_id').notNull(),
    isFraud: boolean('is_fraud').notNull(),
  },
  (t) => [primaryKey({ name: 'fraud_labels_pkey', columns: [t.storeId, t.orderId] })],
);

/** Aggregated sales (point-of-sale exports, public data sets); feeds the demand model. */
export const dailySales = shopSchema.table(
  'daily_sales',
  {
    storeId: text('store_id').notNull(),
    date: date('date', { mode: 'string' }).notNull(),
    catalogKey: text('catalog_key').notNull(),
    units: doublePrecision('units').notNull(),
    revenue: money('revenue'),
    open: boolean('open'),
    promo: boolean('promo'),
    holiday: boolean('holiday'),
  },
  (t) => [
    primaryKey({ name: 'daily_sales_pkey', columns: [t.storeId, t.date, t.catalogKey] }),
    check('daily_sales_units_nonnegative', sql`${t.units} >= 0`),
  ],
);

// ---------------------------------------------------------------------------------------------
// coopfl: the node's own state.

export const KEY_PURPOSES = ['signing', 'secagg', 'customer_hash'] as const;
export const MODEL_VERSION_SOURCES = ['coordinator', 'local'] as const;
export const IMPORT_SOURCES = ['canonical', 'shopify'] as const;
export const IMPORT_STATUSES = ['running', 'done', 'failed'] as const;

/**
 * The node's long-lived keys, one per purpose: request signing, secure-aggregation identity and
 * the secret that pseudonymises customer ids on import. Never sent anywhere, never logged.
 */
export const identityKeys = coopflSchema.table(
  'identity_keys',
  {
    purpose: text('purpose', { enum: KEY_PURPOSES }).primaryKey(),
    publicKey: bytea('public_key'),
    secretKey: bytea('secret_key').notNull(),
    createdAt: createdAt(),
  },
  (t) => [check('identity_keys_purpose_check', oneOf(t.purpose, KEY_PURPOSES))],
);

/**
 * The cooperative's models this node knows (from the coordinator's signed model list): kind and
 * network, so the node can serve a stored version without asking the coordinator.
 */
export const knownModels = coopflSchema.table('models', {
  modelId: text('model_id').primaryKey(),
  kind: text('kind').notNull(),
  /** The network (`ArchitectureSchema`), parsed with zod where it is used. */
  architecture: jsonb('architecture').$type<Record<string, unknown>>().notNull(),
  updatedAt: timestamptz('updated_at').notNull().defaultNow(),
});

/** Global models received from the coordinator and local fine-tunes, weights as float32 LE. */
export const modelVersions = coopflSchema.table(
  'model_versions',
  {
    modelId: text('model_id').notNull(),
    version: integer('version').notNull(),
    source: text('source', { enum: MODEL_VERSION_SOURCES }).notNull(),
    weights: bytea('weights').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ name: 'model_versions_pkey', columns: [t.modelId, t.version, t.source] }),
    check('model_versions_source_check', oneOf(t.source, MODEL_VERSION_SOURCES)),
    check('model_versions_version_nonnegative', sql`${t.version} >= 0`),
  ],
);

/** The shop's consent per model (authoritative; the coordinator keeps a mirror). */
export const consent = coopflSchema.table('consent', {
  modelId: text('model_id').primaryKey(),
  participate: boolean('participate').notNull(),
  /** Further settings (e.g. share evaluation metrics), parsed with zod where they are used. */
  settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
  updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  /** When this setting last reached the coordinator's mirror (null: not yet, re-sync on start). */
  syncedAt: timestamptz('synced_at'),
});

export const ROUND_OUTCOMES = ['joined', 'refused', 'done', 'failed', 'error'] as const;

/**
 * Rounds this node was asked to take part in and what became of them: the member's own audit
 * trail (status, consent refusals) and, after a restart, the record that a round's SecAgg keys
 * were already advertised by a process that is gone (so it is not joined twice).
 */
export const nodeRounds = coopflSchema.table(
  'rounds',
  {
    roundId: text('round_id').primaryKey(),
    modelId: text('model_id').notNull(),
    kind: text('kind').notNull(),
    outcome: text('outcome', { enum: ROUND_OUTCOMES }).notNull(),
    /** Why it was refused or failed (names, never values). */
    reason: text('reason'),
    resultVersion: integer('result_version'),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    check('rounds_outcome_check', oneOf(t.outcome, ROUND_OUTCOMES)),
    index('rounds_updated_at_idx').on(t.updatedAt),
  ],
);

/** Metrics measured on the node's own data (never rows). */
export const localMetrics = coopflSchema.table(
  'local_metrics',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    modelId: text('model_id').notNull(),
    version: integer('version'),
    name: text('name').notNull(),
    value: doublePrecision('value').notNull(),
    count: integer('count').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('local_metrics_model_name_idx').on(t.modelId, t.name, t.createdAt)],
);

export const PRIVACY_UNITS = ['member', 'record'] as const;
export const PRIVACY_MECHANISMS = ['gaussian', 'skellam'] as const;

/**
 * Privacy spent, for the node's own accountant: member-level rows (one per federated round with
 * DP the node took part in, mirroring the coordinator's ledger) and record-level rows (one per
 * local DP-SGD training run).
 */
export const privacySpent = coopflSchema.table(
  'privacy_spent',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    modelId: text('model_id').notNull(),
    roundId: text('round_id'),
    /** Member-level (federated round) or record-level (local DP-SGD). */
    unit: text('unit', { enum: PRIVACY_UNITS }).notNull().default('record'),
    mechanism: text('mechanism', { enum: PRIVACY_MECHANISMS }).notNull().default('gaussian'),
    /** Mechanism parameters beyond the noise multiplier (Skellam: mu and sensitivities). */
    params: jsonb('params').$type<Record<string, number>>().notNull().default({}),
    noiseMultiplier: doublePrecision('noise_multiplier').notNull(),
    samplingRate: doublePrecision('sampling_rate').notNull(),
    steps: integer('steps').notNull(),
    epsilon: doublePrecision('epsilon').notNull(),
    delta: doublePrecision('delta').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    check(
      'privacy_spent_ranges',
      sql`${t.noiseMultiplier} > 0 and ${t.samplingRate} > 0 and ${t.samplingRate} <= 1 and ${t.steps} >= 1 and ${t.epsilon} >= 0 and ${t.delta} > 0 and ${t.delta} < 1`,
    ),
    index('privacy_spent_model_idx').on(t.modelId),
    check('privacy_spent_unit_check', oneOf(t.unit, PRIVACY_UNITS)),
    check('privacy_spent_mechanism_check', oneOf(t.mechanism, PRIVACY_MECHANISMS)),
  ],
);

/**
 * One row per import: what was read and how many rows were kept. `summary` holds counts and file
 * names only (rejected-row reasons name columns, never values).
 */
export const importRuns = coopflSchema.table(
  'import_runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    source: text('source', { enum: IMPORT_SOURCES }).notNull(),
    status: text('status', { enum: IMPORT_STATUSES }).notNull(),
    startedAt: timestamptz('started_at').notNull().defaultNow(),
    finishedAt: timestamptz('finished_at'),
    rowsRead: integer('rows_read').notNull().default(0),
    rowsImported: integer('rows_imported').notNull().default(0),
    rowsRejected: integer('rows_rejected').notNull().default(0),
    summary: jsonb('summary').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [
    check('import_runs_source_check', oneOf(t.source, IMPORT_SOURCES)),
    check('import_runs_status_check', oneOf(t.status, IMPORT_STATUSES)),
  ],
);

export type Store = typeof stores.$inferSelect;
export type Product = typeof products.$inferSelect;
export type NewProduct = typeof products.$inferInsert;
export type Customer = typeof customers.$inferSelect;
export type NewCustomer = typeof customers.$inferInsert;
export type Order = typeof orders.$inferSelect;
export type NewOrder = typeof orders.$inferInsert;
export type OrderItem = typeof orderItems.$inferSelect;
export type NewOrderItem = typeof orderItems.$inferInsert;
export type FraudLabel = typeof fraudLabels.$inferSelect;
export type NewFraudLabel = typeof fraudLabels.$inferInsert;
export type DailySale = typeof dailySales.$inferSelect;
export type NewDailySale = typeof dailySales.$inferInsert;
export type IdentityKey = typeof identityKeys.$inferSelect;
export type ModelVersion = typeof modelVersions.$inferSelect;
export type Consent = typeof consent.$inferSelect;
export type LocalMetric = typeof localMetrics.$inferSelect;
export type PrivacySpent = typeof privacySpent.$inferSelect;
export type ImportRun = typeof importRuns.$inferSelect;
