import type { ExampleSet, LocalTrainingConfig, ModelRuntime } from '@coopfl/node/models';
import { defaultArchitecture } from '@coopfl/protocol/models';
import { describe, expect, it } from 'vitest';
import type { TrainableData } from './arms';
import { poolTraining, trainSelected } from './arms';

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

describe('trainSelected (early stopping on validation)', () => {
  // A runtime whose epoch e leaves the single weight at e: the score decides which is kept.
  const runtime = {
    train: (_a: unknown, init: Float32Array, _d: unknown, cfg: LocalTrainingConfig) => {
      const w = Float32Array.from(init);
      for (let e = 1; e <= cfg.epochs; e++) {
        w[0] = e;
        cfg.onEpoch?.(e, cfg.epochs, () => Float32Array.from(w));
      }
      return Promise.resolve({ weights: w, examples: 1, dpEvents: [] });
    },
  } as unknown as ModelRuntime<TrainableData>;
  const arch = defaultArchitecture('fraud');
  const cfg = { epochs: 5, learningRate: 0.1, batchSize: 1, mu: 0 } as LocalTrainingConfig;
  const run = (higherIsBetter: boolean, score: (e: number) => number | null) =>
    trainSelected(
      runtime,
      arch,
      new Float32Array(1),
      shop(1),
      cfg,
      { name: 'm', higherIsBetter },
      (w) => score(w[0]!),
    );

  it('keeps the epoch with the best validation value, in the metric’s direction', async () => {
    const curve = [0.5, 0.3, 0.2, 0.25, 0.4]; // epoch 3 best when lower is better
    const low = await run(false, (e) => curve[e - 1]!);
    expect(low.epoch).toBe(3);
    expect(low.weights[0]).toBe(3);
    const high = await run(true, (e) => curve[e - 1]!);
    expect(high.epoch).toBe(1);
    expect(high.weights[0]).toBe(1);
  });

  it('skips epochs it cannot score, and keeps the last when none scores', async () => {
    expect((await run(true, (e) => (e === 4 ? 0.9 : null))).epoch).toBe(4);
    const none = await run(true, () => null);
    expect(none.epoch).toBe(5);
    expect(none.weights[0]).toBe(5);
  });
});
