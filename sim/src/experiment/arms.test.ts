import type { ExampleSet } from '@coopfl/node/models';
import { describe, expect, it } from 'vitest';
import type { TrainableData } from './arms';
import { poolTraining } from './arms';

const shop = (rows: number, prior?: number[]): TrainableData => {
  const train: ExampleSet = {
    x: Int32Array.from({ length: rows * 2 }, (_, i) => i),
    width: 2,
    y: Int32Array.from({ length: rows }, (_, i) => i),
    yWidth: 1,
    size: rows,
    ...(prior ? { logitOffset: { table: Float32Array.from(prior), rows: null } } : {}),
  };
  return {
    kind: 'recommendation',
    counts: { train: rows, validation: 0, test: 0 },
    split: { validationFrom: '2024-01-01', testFrom: '2024-01-02' },
    train,
  };
};

describe('poolTraining', () => {
  it("concatenates the shops' examples and keeps each example's own logit offset", () => {
    const pooled = poolTraining([shop(2, [0, -30, 0]), shop(3, [-30, 0, 0])]);
    expect(pooled.train.size).toBe(5);
    expect(pooled.counts.train).toBe(5);
    expect(Array.from(pooled.train.y)).toEqual([0, 1, 0, 1, 2]);
    const o = pooled.train.logitOffset!;
    expect(Array.from(o.table)).toEqual([0, -30, 0, -30, 0, 0]);
    expect(Array.from(o.rows!)).toEqual([0, 0, 1, 1, 1]);
  });

  it('pools sets without offsets as they are, and refuses to mix them', () => {
    expect(poolTraining([shop(1), shop(2)]).train.logitOffset).toBeUndefined();
    expect(() => poolTraining([shop(1, [0, 0, 0]), shop(2)])).toThrow(/one logit offset row/);
  });
});
