/**
 * `@coopfl/node/models`: the cooperative's three member-side models (DESIGN §7) — data
 * preparation from the shop's store, local training (FedProx, record-level DP-SGD), held-out
 * metrics with baselines, and local serving (forecast, recommend, score an order).
 */
import type { ModelKind } from '@coopfl/protocol/models';
import { demandRuntime, type DemandData } from './demand';
import { fraudRuntime, type FraudData } from './fraud';
import { recommendationRuntime, type RecommendationData } from './recommendation';
import type { ModelRuntime } from './types';

/** Each kind's prepared dataset type. */
export interface ModelDataByKind {
  demand: DemandData;
  recommendation: RecommendationData;
  fraud: FraudData;
}

/**
 * The runtime of each model kind, for code that handles whichever model a task names.
 *
 * @example
 * const rt = MODEL_RUNTIMES[task.model.kind];
 * const data = await rt.prepare(source, { arch });
 */
export const MODEL_RUNTIMES: { readonly [K in ModelKind]: ModelRuntime<ModelDataByKind[K]> } = {
  demand: demandRuntime,
  recommendation: recommendationRuntime,
  fraud: fraudRuntime,
};

export { demandRuntime, demandFeatures, forecast } from './demand';
export { MAIN_METRIC, personalizeWeights, trainSelected, validationValue } from './select';
export type { MainMetric, Personalized } from './select';
export type { DemandData, DemandForecast, DemandMeta, DemandSeries } from './demand';
export { recommendationRuntime, recommend } from './recommendation';
export type { RecommendationData, Recommendations } from './recommendation';
export {
  fraudRuntime,
  fraudFeatures,
  scoreOrder,
  paymentGroup,
  FraudOrderSchema,
  FRAUD_POSITIVE_OVERSAMPLING,
} from './fraud';
export type { FraudContext, FraudData, FraudOrder } from './fraud';
export { modelFromWeights, weightsOf, assignWeights, withModel } from './weights';
export { trainLocal, predictAll } from './train-loop';
export type { ExampleSet, LogitOffset, TrainLocalOptions } from './train-loop';
export {
  averagePrecision,
  binaryCrossEntropy,
  hitRateAtK,
  mase,
  ndcgAtK,
  rankOf,
  recallAtFpr,
  seasonalNaiveMae,
  wape,
} from './metrics';
export type {
  LocalTrainingConfig,
  LocalTrainingResult,
  Metrics,
  ModelRuntime,
  PreparedData,
  PrepareOptions,
} from './types';
