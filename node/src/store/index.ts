/**
 * `@coopfl/node/store`: the node's database (canonical `shop` tables + its own `coopfl` state)
 * and read-only access to a shop's data through configured views (DESIGN §3).
 */
export { openStore, redactStoreTarget, DEFAULT_STORE_PATH, MEMORY_STORE } from './open';
export type { OpenedStore, StoreDatabase, StoreKind } from './open';
export { checkStoreSource, StoreSource, STORE_RELATIONS, DEFAULT_STORE_VIEWS } from './source';
export type { StoreRelation, StoreSourceCheck, StoreViews } from './source';
export {
  shopSchema,
  coopflSchema,
  stores,
  products,
  customers,
  orders,
  orderItems,
  fraudLabels,
  dailySales,
  identityKeys,
  modelVersions,
  consent,
  localMetrics,
  privacySpent,
  importRuns,
  RISK_LEVELS,
  KEY_PURPOSES,
  MODEL_VERSION_SOURCES,
  IMPORT_SOURCES,
  IMPORT_STATUSES,
} from './schema';
export type {
  RiskLevel,
  Store,
  Product,
  NewProduct,
  Customer,
  NewCustomer,
  Order,
  NewOrder,
  OrderItem,
  NewOrderItem,
  FraudLabel,
  NewFraudLabel,
  DailySale,
  NewDailySale,
  IdentityKey,
  ModelVersion,
  Consent,
  LocalMetric,
  PrivacySpent,
  ImportRun,
} from './schema';
export { createTemporaryDatabase } from '@coopfl/storage';
export type { TemporaryDatabase } from '@coopfl/storage';
