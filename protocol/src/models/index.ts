export {
  ArchitectureSchema,
  DEMAND_FEATURES,
  DEMAND_HISTORY,
  DEMAND_HORIZON,
  FRAUD_FEATURES,
  MODEL_KINDS,
  MODEL_METRICS,
  RECOMMENDATION_HISTORY,
  catalogBucket,
  defaultArchitecture,
  initialWeights,
  manifestOf,
} from './architecture';
export type { Architecture, ArchitectureOptions, ManifestEntry, ModelKind } from './architecture';
