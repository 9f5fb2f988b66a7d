import type { ExperimentConfigInput } from './config';

/** A cooperative small enough for a test on a loaded 2-core machine (tests only). */
export const TINY = {
  stores: 3,
  rounds: 2,
  seed: 5,
  data: {
    source: 'synthetic',
    days: 200,
    customersPerShop: 80,
    catalogSize: 60,
    categories: 5,
    openingSpread: 0,
  },
  architecture: { hidden: 8, vocab: 128, embeddingDim: 4 },
  stageTimeoutMs: 20_000,
} satisfies ExperimentConfigInput;
