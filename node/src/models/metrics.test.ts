import { describe, expect, it } from 'vitest';
import {
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

describe('demand metrics (known answers)', () => {
  it('WAPE is Σ|y − ŷ| / Σy', () => {
    expect(wape([1, 3], [2, 3])).toBeCloseTo(0.25, 12);
    expect(wape([10, 0, 5], [8, 1, 5])).toBeCloseTo(3 / 15, 12);
    expect(wape([0, 0], [1, 1])).toBeNaN();
  });

  it('MASE divides the MAE by the in-sample seasonal-naive MAE', () => {
    expect(seasonalNaiveMae([1, 2, 3, 4], 2)).toBe(2);
    // Weekly series: y[t] − y[t−7] = 1 for each of the 3 points after the first week.
    expect(seasonalNaiveMae([1, 1, 1, 1, 1, 1, 1, 2, 2, 2], 7)).toBe(1);
    expect(mase([2, 4], [3, 2], 2)).toBeCloseTo(0.75, 12);
    // Per-point scales pool series; non-positive scales are left out.
    expect(mase([2, 4, 9], [3, 2, 0], [1, 2, 0])).toBeCloseTo((1 + 1) / 2, 12);
    expect(seasonalNaiveMae([1, 2], 7)).toBeNaN();
  });
});

describe('fraud metrics (known answers)', () => {
  it('average precision as scikit-learn computes it', () => {
    // sklearn.metrics.average_precision_score([1, 0, 1], [0.9, 0.8, 0.7]) = 0.8333…
    expect(averagePrecision([0.9, 0.8, 0.7], [1, 0, 1])).toBeCloseTo(5 / 6, 12);
    // sklearn: average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) = 0.8333…
    expect(averagePrecision([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(5 / 6, 12);
    expect(averagePrecision([1, 0.5], [1, 1])).toBe(1);
    // Ties form one threshold: all tied → precision = prevalence.
    expect(averagePrecision([0.5, 0.5, 0.5, 0.5], [1, 0, 0, 0])).toBeCloseTo(0.25, 12);
    expect(averagePrecision([0.5], [0])).toBeNaN();
  });

  it('recall at a false-positive-rate cap', () => {
    expect(recallAtFpr([0.9, 0.8, 0.7, 0.1], [1, 0, 1, 0], 0.5)).toBe(1);
    expect(recallAtFpr([0.9, 0.8, 0.7, 0.1], [1, 0, 1, 0], 0.01)).toBe(0.5);
    // 200 negatives: two may be flagged at 1 %; positives scored between them.
    const scores = [...Array.from({ length: 200 }, (_, i) => i / 1000), 0.5, 0.1985, 0.1965];
    const labels = [...Array.from({ length: 200 }, () => 0), 1, 1, 1];
    // Negatives top out at 0.199, 0.198, 0.197: flagging down to 0.198 costs 2 FP of 200 = 1 %
    // and catches 0.5 and 0.1985; the third positive (0.1965) would need a third FP.
    expect(recallAtFpr(scores, labels, 0.01)).toBeCloseTo(2 / 3, 12);
    // Tied negative and positive are flagged together.
    expect(recallAtFpr([0.9, 0.9, 0.1], [1, 0, 0], 0.01)).toBe(0);
  });

  it('binary cross-entropy', () => {
    expect(binaryCrossEntropy([0.5], [1])).toBeCloseTo(Math.LN2, 12);
    expect(binaryCrossEntropy([0.25, 0.75], [0, 1])).toBeCloseTo(-Math.log(0.75), 12);
  });
});

describe('recommendation metrics (known answers)', () => {
  it('ranks exclude the padding bucket, ties count against the target', () => {
    expect(rankOf([0.1, 0.5, 0.3, 0.9], 2, [0])).toBe(2);
    expect(rankOf([9, 0.5, 0.3, 0.9], 2, [0])).toBe(2);
    expect(rankOf([9, 0.5, 0.3, 0.9], 2)).toBe(3);
    expect(rankOf([0, 0.5, 0.5], 2, [0])).toBe(1);
    expect(rankOf([0, 0.5, 0.5], 1, [0])).toBe(0);
  });

  it('HitRate@10 and NDCG@10', () => {
    expect(hitRateAtK([0, 3, 12], 10)).toBeCloseTo(2 / 3, 12);
    expect(ndcgAtK([0, 1, 12], 10)).toBeCloseTo((1 + 1 / Math.log2(3)) / 3, 12);
    expect(ndcgAtK([9, 10], 10)).toBeCloseTo(1 / Math.log2(11) / 2, 12);
    expect(hitRateAtK([], 10)).toBeNaN();
  });
});
