import { seededRandom, randomUnit } from '@coopfl/protocol';
import { parseExperimentConfig } from './config';
import type { ExperimentResults, MetricValues } from './results';
import { ResultsSchema } from './results';
import { MAIN_METRIC } from './run';

/**
 * A plausible, schema-valid `results.json` without running anything (tests of the report only):
 * `shops` shops, `rounds` rounds, every model kind, values drawn from a seeded stream.
 * Requires `cryptoReady()` (the seeded stream is ChaCha20).
 */
export function fixtureResults(shops = 6, rounds = 5, seed = 3): ExperimentResults {
  const rng = seededRandom(seed);
  const u = () => randomUnit(rng);
  const cfg = parseExperimentConfig({ stores: shops, rounds, seed });
  const storeIds = Array.from(
    { length: shops },
    (_, i) => `shop-${String(i + 1).padStart(2, '0')}`,
  );
  const metricsOf = (kind: keyof typeof MAIN_METRIC, level: number): MetricValues => {
    const v = Math.min(0.99, Math.max(0.01, level + (u() - 0.5) * 0.1));
    switch (kind) {
      case 'demand':
        return { wape: 1 - v, mase: 1.2 - v, loss: 1 - v };
      case 'recommendation':
        return { hit_rate_10: v, ndcg_10: v * 0.6, loss: 5 - v };
      case 'fraud':
        return { pr_auc: v, recall_at_1fpr: v * 0.8, loss: 0.3 - v * 0.2 };
    }
  };
  const models = cfg.models.map((kind) => {
    const main = MAIN_METRIC[kind];
    const arm = (level: number) => storeIds.map(() => metricsOf(kind, level));
    const arms = {
      federated_final: arm(0.7),
      federated_best: arm(0.72),
      federated_tuned: arm(0.71),
      local: arm(0.55),
      centralized: arm(0.75),
    };
    const roundRows = Array.from({ length: rounds }, (_, i) => {
      const perShop = storeIds.map(() => metricsOf(kind, 0.4 + (0.3 * (i + 1)) / rounds));
      const mean = Object.fromEntries(
        Object.keys(perShop[0]!).map((k) => [
          k,
          perShop.reduce((s, m) => s + m[k]!, 0) / perShop.length,
        ]),
      );
      return {
        round: i + 1,
        status: 'done',
        resultVersion: i + 1,
        error: null,
        dropped: [],
        survivors: shops,
        refusals: 0,
        errors: 0,
        clipped: 0,
        mean,
        perShop,
        validationMain: mean[main.name]!,
        timing: { seconds: 2 + u() },
      };
    });
    const summarize = (rows: MetricValues[]) => {
      const mean = Object.fromEntries(
        Object.keys(rows[0]!).map((k) => [k, rows.reduce((s, m) => s + m[k]!, 0) / rows.length]),
      );
      return { mean, median: mean, shops: rows.length };
    };
    const baseline = arm(0.35);
    return {
      kind,
      mainMetric: main.name,
      higherIsBetter: main.higherIsBetter,
      metrics: Object.keys(metricsOf(kind, 0.5)),
      dim: 1000,
      architecture: {},
      modelConfig: {},
      shops: storeIds.map((storeId, i) => ({
        storeId,
        counts: { train: 100, validation: 20, test: 20 },
        skipped: null,
        arms: {
          federated_final: arms.federated_final[i]!,
          federated_best: arms.federated_best[i]!,
          federated_tuned: arms.federated_tuned[i]!,
          local: arms.local[i]!,
          centralized: arms.centralized[i]!,
        },
        baselines: { naive: baseline[i]! },
      })),
      rounds: roundRows,
      bestRound: rounds,
      summary: {
        ...Object.fromEntries(Object.entries(arms).map(([k, v]) => [k, summarize(v)])),
        'baseline:naive': summarize(baseline),
      },
      comparison: {
        medianGainOverLocal: 0.2,
        shopsFederatedBeatsLocal: shops - 1,
        shopsCompared: shops,
        gapToCentralized: 0.05,
        personalized: null,
      },
      privacy: {
        mode: 'off' as const,
        unit: 'member' as const,
        epsilonTarget: null,
        noiseMultiplier: 0,
        delta: 1e-5,
        clipNorm: 10,
        epsilonSpent: null,
        perShop: storeIds.map(() => null),
        ledgerRows: 0,
        reference: null,
      },
      cost: { bytesUp: 2e6 * u(), bytesDown: 4e6 * u(), roundsDone: rounds, roundsFailed: 0 },
      timing: { prepareSeconds: 1, federatedSeconds: 10, localSeconds: 2, centralizedSeconds: 1 },
    };
  });
  return ResultsSchema.parse({
    schema: 'coopfl-sim/results@1',
    versions: { coopfl: '0.1.0', tfBackend: 'cpu' },
    config: cfg,
    seed,
    shops: storeIds.map((storeId, i) => ({ storeId, orders: 1000 - i * 100 })),
    malicious: [],
    models,
    timing: {
      startedAt: '2026-01-01T00:00:00.000Z',
      setupSeconds: 1,
      wallSeconds: 60,
      runtime: 'fixture',
      peakRssMb: 100,
    },
  });
}
