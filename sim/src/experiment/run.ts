import { cryptoReady, seededRandom } from '@coopfl/protocol';
import { calibrateNoiseMultiplier } from '@coopfl/protocol/dp';
import type { Architecture, ModelKind } from '@coopfl/protocol/models';
import { MODEL_METRICS, defaultArchitecture, manifestOf } from '@coopfl/protocol/models';
import { defaultStrategy } from '@coopfl/protocol/strategy';
import type { StrategyConfigInput } from '@coopfl/protocol/strategy';
import { initTf } from '@coopfl/node';
import type { ModelRuntime } from '@coopfl/node/models';
import { MAIN_METRIC, MODEL_RUNTIMES, trainSelected } from '@coopfl/node/models';
import { medianOf, poolTraining, summarize } from './arms';
import type { ExperimentConfig } from './config';
import {
  clipNormOf,
  maxWeightOf,
  parseExperimentConfig,
  stageTimeoutOf,
  workersOf,
} from './config';
import type { SimCooperative } from './cooperative';
import { retryUnanswered, startCooperative } from './cooperative';
import { runRound } from './federated';
import type { Attack } from './malicious';
import { deriveSeed, sampleIndices } from './random';
import type { Arm, ExperimentResults, MetricValues, ModelResult } from './results';
import { ResultsSchema } from './results';
import { loadShops } from './shops';

/** Progress of a running experiment, for progress bars and logs. */
export type ExperimentProgress =
  | { phase: 'data'; done: number; total: number }
  | { phase: 'nodes'; done: number; total: number }
  | { phase: 'prepare' | 'local'; model: ModelKind; done: number; total: number }
  | { phase: 'centralized'; model: ModelKind }
  | {
      phase: 'round' | 'reference';
      model: ModelKind;
      done: number;
      total: number;
      status: string;
    };

/** Options of {@link runExperiment}. */
export interface RunExperimentOptions {
  readonly onProgress?: (p: ExperimentProgress) => void;
}

export { MAIN_METRIC } from '@coopfl/node/models';

const VERSION = '0.1.0';

/**
 * Runs one experiment (pure orchestration of production code): a real coordinator and one real
 * node per shop over HTTP on 127.0.0.1; for each model, `rounds` federated training rounds
 * (with dropout injection and optional central DP), and on every shop's held-out test split the
 * federated model (final round and best round by validation), a local-only model (same initial
 * weights, `rounds × epochs` local epochs), a centralized model (all shops' training data pooled,
 * same epochs) and the model kind's baselines. The simulator sees every shop's data for
 * evaluation only; training data never crosses between nodes in the federated arm.
 *
 * @example
 * const results = await runExperiment({ stores: 3, rounds: 2, models: ['fraud'] });
 * console.log(results.models[0]!.summary.federated_final!.median);
 */
export async function runExperiment(
  input: unknown,
  opts: RunExperimentOptions = {},
): Promise<ExperimentResults> {
  const cfg = parseExperimentConfig(input);
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  await cryptoReady();
  const tf = await initTf({ log: () => undefined });
  const shops = await loadShops(cfg);
  opts.onProgress?.({ phase: 'data', done: shops.length, total: shops.length });
  const m = cfg.malicious;
  const bad = new Set(
    sampleIndices(
      seededRandom(deriveSeed(cfg.seed, 'malicious')),
      shops.length,
      Math.round(m.fraction * shops.length),
    ),
  );
  const attack: Attack =
    m.attack === 'scale' ? { kind: 'scale', factor: m.factor } : { kind: 'sign-flip' };
  const coop = await startCooperative(shops, {
    seed: cfg.seed,
    workers: workersOf(cfg),
    attack: (i) => (bad.has(i) ? attack : null),
    transport: cfg.transport,
    onNode: (done, total) => opts.onProgress?.({ phase: 'nodes', done, total }),
  });
  const setupSeconds = (performance.now() - t0) / 1000;
  try {
    const models: ModelResult[] = [];
    for (const kind of cfg.models) models.push(await runModel(coop, cfg, kind, opts));
    // How many threads ran the nodes is not part of the experiment: the results do not depend
    // on it (see determinism.test.ts), so it is reported with the timing, not the config.
    const { workers: _workers, ...config } = cfg;
    const results: ExperimentResults = {
      schema: 'coopfl-sim/results@1',
      versions: { coopfl: VERSION, tfBackend: tf.backend },
      config,
      seed: cfg.seed,
      shops: shops.map((s) => ({ storeId: s.storeId, orders: s.orders })),
      malicious: shops.filter((_, i) => bad.has(i)).map((s) => s.storeId),
      models,
      timing: {
        startedAt,
        setupSeconds,
        wallSeconds: (performance.now() - t0) / 1000,
        runtime: `node ${process.version} ${process.platform}-${process.arch}`,
        // The process's peak: the main thread and every worker thread together.
        peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
        workers: coop.fleet.workers,
      },
    };
    return ResultsSchema.parse(results);
  } finally {
    await coop.close();
  }
}

/** The experiment's (small) network for a kind. */
export function architectureOf(cfg: ExperimentConfig, kind: ModelKind): Architecture {
  const a = cfg.architecture;
  return kind === 'recommendation'
    ? defaultArchitecture(kind, { vocab: a.vocab, hidden: a.hidden, embeddingDim: a.embeddingDim })
    : defaultArchitecture(kind, { hidden: a.hidden });
}

/** The server optimizer of a kind: configured, else its default (FedAvg's η overridable). */
export function strategyOf(cfg: ExperimentConfig, kind: ModelKind): StrategyConfigInput {
  const given = cfg.strategies[kind];
  if (given) return given;
  const d = defaultStrategy(kind);
  return d.kind === 'fedavg' && cfg.serverLearningRate !== undefined
    ? { ...d, eta: cfg.serverLearningRate }
    : d;
}

/** The coordinator model config of an experiment (DP calibrated for `rounds` at q = 1). */
export function modelConfigOf(cfg: ExperimentConfig, arch: Architecture) {
  const clipNorm = clipNormOf(cfg);
  const noiseMultiplier =
    cfg.dp !== 'off'
      ? calibrateNoiseMultiplier({
          targetEpsilon: cfg.epsilon,
          samplingRate: 1,
          steps: cfg.rounds,
          delta: cfg.delta,
          accountant: 'rdp',
        }).noiseMultiplier
      : 0;
  return {
    architecture: arch,
    strategy: strategyOf(cfg, arch.kind),
    dp: {
      mode: cfg.dp,
      clipNorm,
      noiseMultiplier,
      delta: cfg.delta,
      // Room above the target so accountant rounding never refuses the last round.
      epsilonBudget: cfg.dp !== 'off' ? cfg.epsilon * 1.25 : 1e6,
    },
    secagg: { thresholdFraction: cfg.thresholdFraction, minClients: 2 },
    samplingRate: 1,
    maxWeight: maxWeightOf(cfg, arch.kind),
    stageTimeoutMs: stageTimeoutOf(cfg),
    training: cfg.training,
  };
}

async function runModel(
  coop: SimCooperative,
  cfg: ExperimentConfig,
  kind: ModelKind,
  opts: RunExperimentOptions,
): Promise<ModelResult> {
  const runtime = MODEL_RUNTIMES[kind] as unknown as ModelRuntime;
  const arch = architectureOf(cfg, kind);
  const main = MAIN_METRIC[kind];
  const n = coop.members.length;
  const progress = opts.onProgress;
  const fleet = coop.fleet;

  // Every shop's data as its node prepares it (the simulator evaluates; it never trains on it
  // in the federated arm).
  const t = performance.now();
  let prepared = 0;
  const outcomes = await fleet.prepare({ kind, arch }, () =>
    progress?.({ phase: 'prepare', model: kind, done: ++prepared, total: n }),
  );
  const usable = outcomes.map((p) => p.skipped === null);
  const prepareSeconds = (performance.now() - t) / 1000;
  const evalAll = async (weights: Float32Array, split: 'test' | 'validation') =>
    (await fleet.evaluate({ kind, arch, weights, split })).map((r) => r.metrics);

  /**
   * R federated rounds of a new coordinator model `modelId` through the real coordinator and
   * nodes, each round's model evaluated on every shop; the best round by mean validation metric.
   */
  const federate = async (
    modelId: string,
    config: ReturnType<typeof modelConfigOf>,
    reference: boolean,
  ) => {
    // Each model's coordinator draws (initial weights, round ids, central DP noise) come from
    // its own stream, so a model's results do not depend on which other models the experiment
    // runs; the no-DP reference starts from the same initial weights.
    coop.coordinator.ctx.random = seededRandom(deriveSeed(cfg.seed, 'coordinator', kind));
    const created = await retryUnanswered(() =>
      coop.admin.models.create.mutate({ id: modelId, kind, config }),
    );
    const t0 = performance.now();
    const rounds: ModelResult['rounds'] = [];
    const testByRound = new Map<number, (MetricValues | null)[]>();
    for (let r = 1; r <= cfg.rounds; r++) {
      const o = await runRound(coop, {
        modelId,
        kind,
        round: r,
        seed: cfg.seed,
        dropout: cfg.dropout,
        stragglers: cfg.stragglers,
      });
      let perShop: (MetricValues | null)[] = outcomes.map(() => null);
      let validationMain: number | null = null;
      if (o.status === 'done' && o.resultVersion !== null) {
        const w = await coop.weights(modelId, o.resultVersion);
        perShop = await evalAll(w, 'test');
        testByRound.set(r, perShop);
        validationMain = summarize(await evalAll(w, 'validation')).mean[main.name] ?? null;
      }
      rounds.push({
        round: r,
        status: o.status,
        resultVersion: o.resultVersion,
        error: o.error,
        dropped: [...o.dropped],
        stragglers: [...o.stragglers],
        survivors: o.survivors,
        refusals: o.refusals,
        errors: o.errors,
        clipped: o.clipped,
        mean: o.status === 'done' ? summarize(perShop).mean : null,
        perShop,
        validationMain,
        timing: { seconds: o.seconds },
      });
      progress?.({
        phase: reference ? 'reference' : 'round',
        model: kind,
        done: r,
        total: cfg.rounds,
        status: o.status,
      });
    }
    const seconds = (performance.now() - t0) / 1000;
    const better = (a: number, b: number) => (main.higherIsBetter ? a > b : a < b);
    let bestRound: number | null = null;
    for (const r of rounds) {
      if (r.validationMain === null) continue;
      const cur = bestRound === null ? null : rounds[bestRound - 1]!.validationMain;
      if (cur === null || better(r.validationMain, cur)) bestRound = r.round;
    }
    const lastDone = [...rounds].reverse().find((r) => r.status === 'done');
    return { created, rounds, testByRound, bestRound, lastDone, seconds };
  };

  const modelConfig = modelConfigOf(cfg, arch);
  const bytes0 = await coop.bytes();
  const fed = await federate(kind, modelConfig, false);
  const { created, rounds, testByRound, bestRound, lastDone } = fed;
  const federatedSeconds = fed.seconds;
  const bytes1 = await coop.bytes();
  const init = await coop.weights(kind, 0);
  const evalInit = lastDone && bestRound !== null ? null : await evalAll(init, 'test');
  const federatedFinal = lastDone ? testByRound.get(lastDone.round)! : evalInit!;
  const federatedBest = bestRound !== null ? testByRound.get(bestRound)! : evalInit!;

  // Under DP, the quality it costs: the same rounds from the same initial weights, without DP.
  let reference: ModelResult['privacy']['reference'] = null;
  if (cfg.dp !== 'off' && cfg.privacyReference) {
    const ref = await federate(`${kind}-nodp`, modelConfigOf({ ...cfg, dp: 'off' }, arch), true);
    const best = ref.bestRound !== null ? ref.testByRound.get(ref.bestRound)! : null;
    const refMedian = best ? (summarize(best).median[main.name] ?? null) : null;
    const dpMedian = summarize(federatedBest).median[main.name] ?? null;
    reference = {
      bestRound: ref.bestRound,
      perShop: best ?? outcomes.map(() => null),
      medianMain: refMedian,
      qualityCost:
        refMedian === null || dpMedian === null
          ? null
          : (main.higherIsBetter ? refMedian - dpMedian : dpMedian - refMedian) /
            Math.max(Math.abs(refMedian), 1e-9),
    };
  }

  // The nodes' hosts train the local-only and fine-tuned arms while this thread trains the
  // centralized one: the three do not depend on each other (each has its own seed), and this
  // thread would otherwise sit idle during the first two, and the hosts during the third.
  const epochs = cfg.rounds * cfg.training.epochs;
  const [{ local, tuned, localSeconds }, { centralized, centralizedSeconds }] = await Promise.all([
    (async () => {
      // Local-only: each shop alone, same initial weights, rounds × epochs local epochs, kept at
      // the epoch its validation data scores best (as federated_best is kept at its best round).
      const t0 = performance.now();
      const job = (i: number, label: string | number, epochs: number) => ({
        index: i,
        epochs,
        learningRate: cfg.training.learningRate,
        batchSize: cfg.training.batchSize,
        mu: 0,
        seed: deriveSeed(cfg.seed, 'local', kind, label),
      });
      let trained = 0;
      const local = (
        await fleet.train(
          {
            kind,
            arch,
            weights: init,
            jobs: outcomes.map((p) => job(p.index, p.index, epochs)),
            select: main,
          },
          () => progress?.({ phase: 'local', model: kind, done: ++trained, total: n }),
        )
      ).map((r) => r.metrics);
      const localSeconds = (performance.now() - t0) / 1000;
      // Federated + local fine-tuning: each shop's node personalizes the final global model as it
      // does in production (fine-tunes it, keeps it only where its validation data prefers it).
      const finalWeights = lastDone ? await coop.weights(kind, lastDone.resultVersion!) : init;
      const tuneEpochs = cfg.training.fineTuneEpochs;
      const tuned =
        tuneEpochs === 0
          ? outcomes.map(() => null)
          : (
              await fleet.train({
                kind,
                arch,
                weights: finalWeights,
                jobs: outcomes.map((p) => job(p.index, `tuned-${p.index}`, tuneEpochs)),
                personalize: true,
              })
            ).map((r) => r.metrics);
      return { local, tuned, localSeconds };
    })(),
    (async () => {
      // Centralized: all shops' training examples pooled (the upper bound).
      const t0 = performance.now();
      progress?.({ phase: 'centralized', model: kind });
      let centralized: (MetricValues | null)[] = outcomes.map(() => null);
      if (usable.some(Boolean)) {
        const datas = (await fleet.trainingData({ kind })).map((d) => d.data);
        const { weights } = await trainSelected(
          runtime,
          arch,
          init,
          poolTraining(datas),
          {
            epochs,
            learningRate: cfg.training.learningRate,
            batchSize: cfg.training.batchSize,
            mu: 0,
            random: seededRandom(deriveSeed(cfg.seed, 'local', kind, 'centralized')),
          },
          main,
          // The mean validation main metric over the shops, as the federated arm's best round.
          async (w) => summarize(await evalAll(w, 'validation')).mean[main.name] ?? null,
        );
        centralized = await evalAll(weights, 'test');
      }
      return { centralized, centralizedSeconds: (performance.now() - t0) / 1000 };
    })(),
  ]);

  const baselines = (await fleet.baselines({ kind })).map((b) => b.baselines);
  const arms: Record<Arm, (MetricValues | null)[]> = {
    federated_final: federatedFinal,
    federated_best: federatedBest,
    federated_tuned: tuned,
    local,
    centralized,
  };
  const summary: ModelResult['summary'] = {};
  for (const [arm, rows] of Object.entries(arms)) summary[arm] = summarize(rows);
  for (const name of [...new Set(baselines.flatMap((b) => Object.keys(b)))].sort()) {
    summary[`baseline:${name}`] = summarize(baselines.map((b) => b[name] ?? null));
  }

  // Privacy from the coordinator's ledger (member-level).
  const ledger = (await retryUnanswered(() => coop.admin.privacy.ledger.query({}))).filter(
    (row) => row.modelId === kind,
  );
  const memberIds = coop.members.map((x) => x.memberId);
  const perShop = memberIds.map((id) => {
    const rows = ledger.filter((row) => row.memberId === id);
    return rows.length ? Math.max(...rows.map((row) => row.epsilon)) : null;
  });
  const spent = perShop.filter((e): e is number => e !== null);

  const comparison = {
    ...compare(arms, main, 'federated_best'),
    personalized: cfg.training.fineTuneEpochs > 0 ? compare(arms, main, 'federated_tuned') : null,
  };
  return {
    kind,
    mainMetric: main.name,
    higherIsBetter: main.higherIsBetter,
    metrics: [...MODEL_METRICS[kind]],
    dim: manifestOf(arch).dim,
    architecture: arch,
    modelConfig: { ...modelConfig, dim: created.dim },
    shops: coop.members.map((x, i) => ({
      storeId: x.storeId,
      counts: usable[i] ? outcomes[i]!.counts : null,
      skipped: outcomes[i]!.skipped,
      arms: Object.fromEntries(
        Object.entries(arms).map(([arm, rows]) => [arm, rows[i] ?? {}]),
      ) as Record<Arm, MetricValues>,
      baselines: baselines[i] ?? {},
    })),
    rounds,
    bestRound,
    summary,
    comparison,
    privacy: {
      mode: cfg.dp,
      unit: 'member',
      epsilonTarget: cfg.dp !== 'off' ? cfg.epsilon : null,
      noiseMultiplier: modelConfig.dp.noiseMultiplier,
      delta: cfg.delta,
      clipNorm: modelConfig.dp.clipNorm,
      epsilonSpent: spent.length ? Math.max(...spent) : null,
      perShop,
      ledgerRows: ledger.length,
      reference,
    },
    cost: {
      bytesUp: bytes1.up - bytes0.up,
      bytesDown: bytes1.down - bytes0.down,
      roundsDone: rounds.filter((r) => r.status === 'done').length,
      roundsFailed: rounds.filter((r) => r.status !== 'done').length,
    },
    timing: { prepareSeconds, federatedSeconds, localSeconds, centralizedSeconds },
  };
}

/**
 * A federated arm vs local-only per shop, and the median-shop gap to centralized, on the main
 * metric. Each arm is taken where its own validation data puts it: the federated model of the
 * best round (fine-tuned copies at their best epoch, or the global model where no epoch beat it),
 * the local and centralized models of the best epoch (early stopping); never chosen on test.
 */
function compare(
  arms: Record<Arm, (MetricValues | null)[]>,
  main: { name: string; higherIsBetter: boolean },
  federated: 'federated_best' | 'federated_tuned',
): Omit<ModelResult['comparison'], 'personalized'> {
  const gains: number[] = [];
  let wins = 0;
  const value = (row: MetricValues | null | undefined) => row?.[main.name] ?? null;
  arms[federated].forEach((f, i) => {
    const fv = value(f);
    const lv = value(arms.local[i]);
    if (fv === null || lv === null) return;
    // Relative gain, positive when federated is better, whatever the metric's direction.
    const gain = main.higherIsBetter
      ? (fv - lv) / Math.max(Math.abs(lv), 1e-9)
      : (lv - fv) / Math.max(Math.abs(lv), 1e-9);
    gains.push(gain);
    if (gain > 0) wins++;
  });
  const medF = medianOf(arms[federated].map(value).filter((v): v is number => v !== null));
  const medC = medianOf(arms.centralized.map(value).filter((v): v is number => v !== null));
  const gap =
    medF === null || medC === null
      ? null
      : main.higherIsBetter
        ? (medC - medF) / Math.max(Math.abs(medC), 1e-9)
        : (medF - medC) / Math.max(Math.abs(medC), 1e-9);
  return {
    medianGainOverLocal: medianOf(gains),
    shopsFederatedBeatsLocal: wins,
    shopsCompared: gains.length,
    gapToCentralized: gap,
  };
}
