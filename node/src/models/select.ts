import type { Architecture, ModelKind } from '@coopfl/protocol/models';
import type { LocalTrainingConfig, Metrics, ModelRuntime, PreparedData } from './types';

/** A model kind's main metric (DESIGN §7) and its direction. */
export interface MainMetric {
  readonly name: string;
  readonly higherIsBetter: boolean;
}

/** Each kind's main metric. */
export const MAIN_METRIC: Record<ModelKind, MainMetric> = {
  demand: { name: 'wape', higherIsBetter: false },
  recommendation: { name: 'ndcg_10', higherIsBetter: true },
  fraud: { name: 'pr_auc', higherIsBetter: true },
};

/** A split's main-metric value, null when it is not measurable there. */
export function validationValue(m: Metrics, main: MainMetric): number | null {
  const v = m[main.name];
  return v !== undefined && Number.isFinite(v) ? v : null;
}

/**
 * Trains `cfg.epochs` epochs and keeps the epoch whose weights score best on validation (early
 * stopping; the test split is never looked at). `score` gives an epoch's weights their
 * validation main metric (null: not measurable); when no epoch scores, the last one is kept.
 * With `keepStart`, the starting weights are a candidate too (epoch 0): fine-tuning a shared
 * model then never leaves a shop worse off on its validation data than the shared model itself.
 * `value` is the kept epoch's score, `startValue` the starting weights' (with `keepStart`).
 *
 * @example
 * const { weights, epoch } = await trainSelected(rt, arch, init, data, cfg, main, (w) =>
 *   rt.evaluate(arch, w, data, 'validation')[main.name] ?? null);
 */
export async function trainSelected<D extends PreparedData>(
  runtime: ModelRuntime<D>,
  arch: Architecture,
  init: Float32Array,
  data: D,
  cfg: LocalTrainingConfig,
  main: MainMetric,
  score: (weights: Float32Array) => Promise<number | null> | number | null,
  o: { keepStart?: boolean } = {},
): Promise<{
  weights: Float32Array;
  epoch: number;
  value: number | null;
  startValue: number | null;
}> {
  const snapshots: Float32Array[] = [];
  const { weights: last } = await runtime.train(arch, init, data, {
    ...cfg,
    onEpoch: (epoch, epochs, weights) => {
      if (epoch < epochs) snapshots.push(weights());
      cfg.onEpoch?.(epoch, epochs, weights);
    },
  });
  snapshots.push(last);
  const candidates = snapshots.map((weights, i) => ({ weights, epoch: i + 1 }));
  if (o.keepStart) candidates.unshift({ weights: init, epoch: 0 });
  let best = { weights: last, epoch: snapshots.length, value: null as number | null };
  let startValue: number | null = null;
  for (const { weights, epoch } of candidates) {
    const raw = await score(weights);
    const v = raw !== null && Number.isFinite(raw) ? raw : null;
    if (epoch === 0) startValue = v;
    if (v === null) continue;
    const better = best.value === null || (main.higherIsBetter ? v > best.value : v < best.value);
    if (better) best = { weights, epoch, value: v };
  }
  return { ...best, startValue };
}

/** What {@link personalizeWeights} kept. */
export interface Personalized {
  readonly weights: Float32Array;
  /** Fine-tuning epochs kept; 0 when the shared model scored best and is kept as it is. */
  readonly epoch: number;
  /** The main metric's name and the validation values of the shared and the kept model. */
  readonly metric: string;
  readonly shared: number | null;
  readonly kept: number | null;
}

/**
 * Personalization: adapts a shared (global) model to one shop by training it further on the
 * shop's own training split, and keeps the epoch its validation split scores best by the kind's
 * main metric, the shared model itself included, so the shop never serves something its own
 * held-out data likes less. Nothing leaves the shop and no privacy is spent: the copy is only
 * served locally, never sent.
 *
 * @example
 * const p = await personalizeWeights(rt, 'recommendation', arch, global, data, { epochs: 2, … });
 * if (p.epoch > 0) await savePersonalized(db, modelId, version, p.weights);
 */
export async function personalizeWeights<D extends PreparedData>(
  runtime: ModelRuntime<D>,
  kind: ModelKind,
  arch: Architecture,
  shared: Float32Array,
  data: D,
  cfg: LocalTrainingConfig,
): Promise<Personalized> {
  const main = MAIN_METRIC[kind];
  const r = await trainSelected(
    runtime,
    arch,
    shared,
    data,
    cfg,
    main,
    (w) => validationValue(runtime.evaluate(arch, w, data, 'validation'), main),
    { keepStart: true },
  );
  // Nothing scored (e.g. PR-AUC without a positive in the validation split): no evidence that
  // the copy is better, so the shared model stays.
  if (r.value === null)
    return { weights: shared, epoch: 0, metric: main.name, shared: null, kept: null };
  return {
    weights: r.weights,
    epoch: r.epoch,
    metric: main.name,
    shared: r.startValue,
    kept: r.value,
  };
}
