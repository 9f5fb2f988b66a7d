/**
 * `@coopfl/node/runtime`: the member daemon — joining a cooperative, consent, the federated client
 * loop (polling, consent and privacy-budget checks, local training, secure aggregation) and the
 * node's own state. The CLI (`coopfl-node`) and the simulator drive it through this entry.
 */
export { initNode, openNode, DEFAULT_STORE_DB } from './member';
export type {
  ConsentSetResult,
  InitNodeOptions,
  InitNodeResult,
  NodeHandle,
  NodeStatus,
  OpenNodeOptions,
} from './member';
export {
  NodeConfigSchema,
  DEFAULT_NODE_DIR,
  NODE_DIR_ENV,
  CONFIG_FILE,
  keyFingerprint,
  loadNodeConfig,
  parseNodeConfig,
  resolveNodeDir,
  saveNodeConfig,
  storeTarget,
} from './config';
export type { NodeConfig, NodeConfigInput } from './config';
export { runClientLoop, syncConsent, syncModels, preparedCache } from './client-loop';
export type { ClientLoopOptions, ClientLoopSummary } from './client-loop';
export { runTask, checkTask, roundPrivacyEvent, Refusal } from './participate';
export type { TaskContext } from './participate';
export type { NodeEvent, NodeEventSink, RefusalReason } from './events';
export { Backoff } from './backoff';
export { createModelProvider } from './serving';
