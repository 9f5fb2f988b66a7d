export { CoopNodeError, NODE_ERROR_CODES, isCoopNodeError } from './errors';
export type { NodeErrorCode } from './errors';
export { initTf } from './tf/backend';
export type { TfBackendName, TfInitOptions, TfInitResult } from './tf/backend';
export { installWasmTrainingKernels } from './tf/kernels/register-wasm';
export { buildModel, disposeModel, modelVariables } from './train/model';
export type {
  Activation,
  Batch,
  DenseLayer,
  EmbeddingLayer,
  LossKind,
  ModelSpec,
  PlainModel,
} from './train/model';
export { logits } from './train/forward';
export { perExampleLoss } from './train/loss';
export { batchGradients, meanLoss, plainStep } from './train/plain-step';
export { clippedGradientSum } from './train/clipped-grads';
export type { ClippedGradients } from './train/clipped-grads';
export { DpSgd } from './train/dpsgd';
export type { DpSgdOptions } from './train/dpsgd';
export { DpStepLog } from './train/step-log';
export type { DpSgdEvent } from './train/step-log';
export {
  REFERENCE_MODELS,
  referenceModel,
  syntheticBatch,
  R3_HISTORY,
  R3_ITEMS,
} from './train/reference-models';
export type { ReferenceModelName } from './train/reference-models';
export { benchDpSgd } from './train/bench';
export type { BenchDpSgdOptions, DpSgdBenchResult } from './train/bench';
// Storage and import live under the subpaths `@coopfl/node/store` and `@coopfl/node/import`
// (they pull in PGlite and postgres.js); only their error codes are shared through this entry.
export { FusedAdam } from './train/fused-adam';
// The three models (prepare, train, evaluate, serve) are also at the subpath `@coopfl/node/models`.
export {
  MODEL_RUNTIMES,
  demandRuntime,
  recommendationRuntime,
  fraudRuntime,
  forecast,
  recommend,
  scoreOrder,
  FraudOrderSchema,
  modelFromWeights,
  weightsOf,
} from './models';
export type {
  DemandData,
  DemandForecast,
  FraudData,
  FraudOrder,
  LocalTrainingConfig,
  LocalTrainingResult,
  Metrics,
  ModelDataByKind,
  ModelRuntime,
  PreparedData,
  PrepareOptions,
  RecommendationData,
  Recommendations,
} from './models';
