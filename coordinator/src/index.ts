/**
 * `@coopfl/coordinator`: the cooperative's server. The storage layer is the `./db` subpath
 * (`@coopfl/coordinator/db`), kept apart so that importing the package does not load a driver.
 */
export { CoordinatorError, COORDINATOR_ERROR_CODES, isCoordinatorError } from './errors';
export type { CoordinatorErrorCode } from './errors';
export { startCoordinator } from './server';
export type { RunningCoordinator } from './server';
export { loadConfig, CoordinatorConfigSchema } from './config';
export type { CoordinatorConfig, CoordinatorConfigInput } from './config';
export type { AppRouter } from './http/router';
export { ModelConfigSchema, trainingWeightCap } from './services/model-config';
export type { ModelConfig, ModelConfigInput } from './services/model-config';
export { createAdmin } from './services/admins';
