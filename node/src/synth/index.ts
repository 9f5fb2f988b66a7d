/**
 * Synthetic cooperatives (for `coopfl-sim data synth`, the demo and tests): seeded shops, customers, orders and fraud in the
 * canonical CSV layout (DESIGN.md §3).
 */
export { generateCooperative } from './generate';
export type { SynthProgress } from './generate';
export { writeCooperative, toCsv } from './csv';
export { summarizeCooperative } from './summary';
export type { CooperativeSummary, ShopSummary } from './summary';
export { SynthOptions } from './options';
export type { SynthOptionsInput } from './options';
export { CANONICAL_COLUMNS } from './layout';
export type { CooperativeTables, Row, TableName } from './layout';
export { FRAUD_PATTERNS } from './fraud';
export type { FraudPattern } from './fraud';
export { shopTables, storeIdsOf } from './shops';
