export { NodeClient, CoordinatorHttpError, fetchWithRetry, weightsDigest } from './node-client';
export type { NodeClientOptions, RetryPolicy, Transport } from './node-client';
export { adminClient, loginAdmin } from './admin-client';
export type { AdminClient } from './admin-client';
export type { AppRouter } from '../http/router';
export type { TaskBody } from '../http/task';
export type { RoundConfig } from '../rounds/round-config';
export type { PublishedBenchmark } from '../services/benchmarks';
export { secAggConfigOf } from '../rounds/round-config';
// What a node needs to enforce consent and privacy budgets exactly as the coordinator schedules.
export {
  ConsentSchema,
  StoredConsentSchema,
  allowsModel,
  epsilonLimits,
} from '../services/consent';
export type { Consent, EpsilonLimit } from '../services/consent';
export { roundEvent, skellamRoundEvent } from '../services/privacy';
