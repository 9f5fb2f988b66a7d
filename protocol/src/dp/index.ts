/**
 * `@coopfl/protocol/dp`: differential privacy for CoopFL — clipping, noise samplers (continuous
 * Gaussian, exact discrete Gaussian, Skellam), distributed-noise sizing, RDP and PLD accountants,
 * calibration, and the privacy ledger. Pure functions; all randomness comes from a RandomSource.
 */

// Quantities (branded)
export {
  EpsilonSchema,
  DeltaSchema,
  ClipNormSchema,
  NoiseMultiplierSchema,
  asEpsilon,
  asDelta,
  asClipNorm,
  asNoiseMultiplier,
} from '../brand';
export type { Epsilon, Delta, ClipNorm, NoiseMultiplier } from '../brand';

// Mechanisms
export { l2Clip, l2Norm } from './clip';
export type { ClipResult, FloatVector } from './clip';
export {
  adaptiveClipUpdate,
  adaptiveClipNoiseSplit,
  effectiveNoiseMultiplier,
} from './adaptive-clip';
export type { AdaptiveClipOptions } from './adaptive-clip';
export { sampleGaussian, gaussianVector, addGaussianNoise } from './gaussian';
export { sampleDiscreteGaussian, discreteGaussianVector } from './discrete-gaussian';
export type { RationalVariance } from './discrete-gaussian';
export { sampleSkellam, skellamVector } from './skellam';
export {
  distributedSkellamMu,
  noiseHeadroom,
  wrapProbability,
  skellamTailLogBound,
} from './distributed';
export type { DistributedNoise } from './distributed';

// Accounting
export {
  AccountingEventSchema,
  GaussianEventSchema,
  SkellamEventSchema,
  SamplingRateSchema,
  StepsSchema,
} from './events';
export type { AccountingEvent, GaussianEvent, SkellamEvent } from './events';
export { rdpSampledGaussian } from './rdp-gaussian';
export { rdpSkellam } from './rdp-skellam';
export type { SkellamParams } from './rdp-skellam';
export { DEFAULT_ORDERS, rdpCurve, composeRdp, rdpToEpsilon, rdpEpsilon } from './rdp';
export type { RdpEpsilon } from './rdp';
export { pldEpsilon, pldDelta } from './pld';
export type { PldOptions, PldDetails } from './pld';
export { analyticGaussianDelta, analyticGaussianEpsilon } from './analytic-gaussian';
export { epsilonFor, tighterEpsilon, calibrateNoiseMultiplier } from './accountant';
export type { AccountantKind, EpsilonReport } from './accountant';

// Ledger
export {
  PrivacyLedger,
  PrivacyEventSchema,
  PrivacyBudgetSchema,
  PrivacyUnitSchema,
  ModelIdSchema,
} from './ledger';
export type {
  PrivacyEvent,
  PrivacyBudget,
  PrivacyUnit,
  PrivacyReport,
  BudgetCheck,
} from './ledger';
