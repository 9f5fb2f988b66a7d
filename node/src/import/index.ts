/**
 * `@coopfl/node/import`: loading shop data into the canonical `shop` tables — the canonical CSV
 * directory (DESIGN §3) and Shopify's orders export. Bad rows are reported, never guessed.
 */
export { importCanonical } from './canonical';
export { CANONICAL_FILE_NAMES } from './canonical-files';
export type { ImportCanonicalOptions } from './canonical';
export { importShopify } from './shopify';
export type { ImportShopifyOptions } from './shopify';
export { shopifyStatus } from './shopify-rows';
export type { ImportFileReport, ImportProgress, ImportReport } from './report';
export { pseudonym, normalizeEmail, nameCatalogKey, MIN_HASH_KEY_BYTES } from './hash';
