/**
 * `@coopfl/protocol/strategy`: server-side federated aggregation. A {@link ServerOptimizer} turns
 * the securely aggregated sum of members' updates into the next global model — FedAvg, or the
 * adaptive FedAdagrad / FedAdam / FedYogi of Reddi et al. 2021 — with its state stored as bytes
 * between rounds. Privacy wraps strategies (`withCentralDp(fedAvg(), …)`); FedProx and update
 * clipping are the node-side helpers. Pure functions; noise comes from an injected RandomSource.
 */

// Types
export { OptimizerKindSchema } from './types';
export type {
  Aggregate,
  AdaptiveKind,
  AdaptiveState,
  FedAvgState,
  OptimizerKind,
  OptimizerState,
  ServerOptimizer,
  StepResult,
} from './types';

// Server optimizers
export { fedAvg } from './fedavg';
export type { FedAvgOptions } from './fedavg';
export { fedAdagrad, fedAdam, fedYogi } from './adaptive';
export type { FedAdagradOptions, FedAdamOptions, FedYogiOptions } from './adaptive';

// Configuration
export {
  defaultStrategy,
  StrategyConfigSchema,
  FedAvgConfigSchema,
  FedAdagradConfigSchema,
  FedAdamConfigSchema,
  FedYogiConfigSchema,
} from './config';
export type {
  StrategyConfig,
  StrategyConfigInput,
  FedAvgConfig,
  FedAdagradConfig,
  FedAdamConfig,
  FedYogiConfig,
} from './config';
export { createOptimizer } from './create';

// State persistence
export { encodeOptimizerState, decodeOptimizerState } from './state';

// Privacy
export { withCentralDp } from './central-dp';
export type { CentralDpOptions } from './central-dp';
export { clipUpdate } from './clip';

// Client side
export { fedProxConfig, proximalGradient } from './fedprox';
export type { FedProxConfig } from './fedprox';
