import { CoopNodeError } from '../errors';

/**
 * Held-out metrics of the three models (DESIGN §7) as pure functions over plain arrays, so each
 * has known-answer tests independent of TF.js and of any data loading.
 */

/**
 * Weighted absolute percentage error Σ|y − ŷ| / Σy: the share of units mis-forecast. Unlike MAPE
 * it stays finite on the many zero days of slow sellers. NaN when Σy = 0 (nothing to compare to).
 *
 * @example wape([1, 3], [2, 3]) // 0.25
 */
export function wape(actual: ArrayLike<number>, predicted: ArrayLike<number>): number {
  checkSameLength(actual, predicted);
  let err = 0;
  let total = 0;
  for (let i = 0; i < actual.length; i++) {
    err += Math.abs(actual[i]! - predicted[i]!);
    total += actual[i]!;
  }
  return total > 0 ? err / total : Number.NaN;
}

/**
 * In-sample MAE of the seasonal-naive forecast y[t] ≈ y[t − season] over a training series: MASE's
 * denominator. NaN when the series is not longer than the season.
 *
 * @example seasonalNaiveMae([1, 2, 3, 4], 2) // 2
 */
export function seasonalNaiveMae(series: ArrayLike<number>, season = 7): number {
  if (series.length <= season) return Number.NaN;
  let s = 0;
  for (let t = season; t < series.length; t++) s += Math.abs(series[t]! - series[t - season]!);
  return s / (series.length - season);
}

/**
 * Mean absolute scaled error (Hyndman & Koehler 2006): MAE of the forecast divided by the
 * in-sample seasonal-naive MAE, so < 1 beats "same as last week" on the training data and series
 * of any size are comparable. `scale` is one denominator, or one per point (pooling several
 * series); points whose scale is not positive are left out.
 *
 * @example mase([2, 4], [3, 2], 2) // 0.75
 */
export function mase(
  actual: ArrayLike<number>,
  predicted: ArrayLike<number>,
  scale: number | ArrayLike<number>,
): number {
  checkSameLength(actual, predicted);
  let s = 0;
  let n = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = typeof scale === 'number' ? scale : scale[i]!;
    if (!(d > 0)) continue;
    s += Math.abs(actual[i]! - predicted[i]!) / d;
    n++;
  }
  return n > 0 ? s / n : Number.NaN;
}

/**
 * Average precision, the step-wise area under the precision–recall curve (scikit-learn's
 * `average_precision_score`: Σ (R_k − R_{k−1}) P_k over distinct score thresholds). The fraud
 * metric: on a 1 % positive class it moves where ROC-AUC barely does. NaN without positives.
 *
 * @example averagePrecision([0.9, 0.8, 0.7], [1, 0, 1]) // (1 + 2/3) / 2
 */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkSameLength(scores, labels);
  const order = descending(scores);
  const positives = countPositives(labels);
  if (positives === 0) return Number.NaN;
  let tp = 0;
  let fp = 0;
  let ap = 0;
  let lastRecall = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    if (labels[i]! > 0) tp++;
    else fp++;
    const next = order[k + 1];
    if (next !== undefined && scores[next] === scores[i]) continue; // ties form one threshold
    const recall = tp / positives;
    ap += (recall - lastRecall) * (tp / (tp + fp));
    lastRecall = recall;
  }
  return ap;
}

/**
 * The highest recall reachable with a score threshold whose false-positive rate is at most
 * `maxFpr` (default 1 %): how much fraud is caught when only 1 in 100 good orders may be
 * flagged for review. Ties at a threshold are flagged together. NaN without positives.
 *
 * @example recallAtFpr([0.9, 0.8, 0.7, 0.1], [1, 0, 1, 0], 0.5) // 1
 */
export function recallAtFpr(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  maxFpr = 0.01,
): number {
  checkSameLength(scores, labels);
  const positives = countPositives(labels);
  const negatives = labels.length - positives;
  if (positives === 0) return Number.NaN;
  const order = descending(scores);
  let tp = 0;
  let fp = 0;
  let best = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    if (labels[i]! > 0) tp++;
    else fp++;
    const next = order[k + 1];
    if (next !== undefined && scores[next] === scores[i]) continue;
    if ((negatives === 0 ? 0 : fp / negatives) > maxFpr) break;
    best = tp / positives;
  }
  return best;
}

/**
 * 0-based rank of `target` among `scores` (how many candidates score higher; ties count against
 * the target when they come first), skipping the indices in `exclude` (the padding bucket).
 *
 * @example rankOf([0.1, 0.5, 0.3, 0.9], 2, [0]) // 2
 */
export function rankOf(
  scores: ArrayLike<number>,
  target: number,
  exclude: readonly number[] = [],
): number {
  const s = scores[target]!;
  let rank = 0;
  for (let i = 0; i < scores.length; i++) {
    if (i === target || exclude.includes(i)) continue;
    const v = scores[i]!;
    if (v > s || (v === s && i < target)) rank++;
  }
  return rank;
}

/**
 * HitRate@k over 0-based ranks of the true next item: the share ranked in the top k.
 *
 * @example hitRateAtK([0, 3, 12], 10) // 2/3
 */
export function hitRateAtK(ranks: readonly number[], k = 10): number {
  if (ranks.length === 0) return Number.NaN;
  return ranks.filter((r) => r < k).length / ranks.length;
}

/**
 * NDCG@k with one relevant item per query: 1/log2(rank + 2) when it is in the top k, else 0,
 * averaged. Rewards putting the bought item first rather than tenth.
 *
 * @example ndcgAtK([0, 1, 12], 10) // (1 + 1/log2(3)) / 3
 */
export function ndcgAtK(ranks: readonly number[], k = 10): number {
  if (ranks.length === 0) return Number.NaN;
  let s = 0;
  for (const r of ranks) if (r < k) s += 1 / Math.log2(r + 2);
  return s / ranks.length;
}

/**
 * Mean binary cross-entropy of probabilities against 0/1 labels (probabilities clipped to
 * [1e-7, 1 − 1e-7] so one confident mistake does not make it infinite).
 *
 * @example binaryCrossEntropy([0.5], [1]) // ln 2
 */
export function binaryCrossEntropy(probs: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkSameLength(probs, labels);
  if (probs.length === 0) return Number.NaN;
  let s = 0;
  for (let i = 0; i < probs.length; i++) {
    const p = Math.min(1 - 1e-7, Math.max(1e-7, probs[i]!));
    s -= labels[i]! > 0 ? Math.log(p) : Math.log(1 - p);
  }
  return s / probs.length;
}

function checkSameLength(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) {
    throw new CoopNodeError(
      'InvalidArgument',
      `metric inputs differ in length (${a.length} vs ${b.length})`,
    );
  }
}

function countPositives(labels: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]! > 0) n++;
  return n;
}

function descending(scores: ArrayLike<number>): number[] {
  return Array.from({ length: scores.length }, (_, i) => i).sort(
    (a, b) => scores[b]! - scores[a]! || a - b,
  );
}
