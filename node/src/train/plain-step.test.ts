import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initTf } from '../tf/backend';
import { buildModel, disposeModel, modelVariables, type Batch, type PlainModel } from './model';
import { batchGradients, meanLoss, plainStep } from './plain-step';
import { expectClose } from './testkit';

beforeAll(async () => {
  await initTf({ log: () => {} });
});

const made: { model: PlainModel; batch: Batch }[] = [];
afterAll(() => {
  for (const { model, batch } of made) {
    disposeModel(model);
    tf.dispose([batch.x, batch.y, ...(batch.offset ? [batch.offset] : [])]);
  }
});

/** Ids of three examples → a 5-way softmax, optionally with a fixed logit offset. */
function embeddingCase(
  activation: 'tanh' | 'relu',
  seed: number,
  offset?: number[][],
): { model: PlainModel; batch: Batch } {
  const model = buildModel({
    embedding: { vocab: 9, dim: 3 },
    layers: [
      { units: 4, activation },
      { units: 5, activation: 'linear' },
    ],
    loss: 'softmax-ce-logits',
    seed,
  });
  const x = tf.tensor2d(
    [
      [1, 1, 2],
      [8, 0, 8],
      [3, 4, 5],
    ],
    undefined,
    'int32',
  );
  const y = tf.tensor1d([0, 4, 2], 'int32');
  return { model, batch: offset ? { x, y, offset: tf.tensor2d(offset) } : { x, y } };
}

const cases: [string, () => { model: PlainModel; batch: Batch }][] = [
  [
    'MLP relu/sigmoid → BCE',
    () => ({
      model: buildModel({
        inputDim: 6,
        layers: [
          { units: 8, activation: 'relu' },
          { units: 5, activation: 'sigmoid' },
          { units: 1, activation: 'linear' },
        ],
        loss: 'bce-logits',
        seed: 1,
      }),
      batch: {
        x: tf.randomNormal<tf.Rank.R2>([10, 6], 0, 1, 'float32', 2),
        y: tf.tensor1d([1, 0, 0, 1, 1, 0, 1, 0, 0, 1]),
      },
    }),
  ],
  ['embedding → tanh → softmax', () => embeddingCase('tanh', 3)],
  [
    'embedding → softmax with one fixed logit offset row for the batch',
    () => embeddingCase('relu', 4, [[0, -30, 1.5, 0, -2]]),
  ],
];

describe('batchGradients (backpropagation by hand)', () => {
  it.each(cases)('%s: equals tf.variableGrads of the mean loss', (_, make) => {
    const { model, batch } = make();
    made.push({ model, batch });
    const vars = modelVariables(model);
    const ref = tf.variableGrads(() => meanLoss(model, batch), vars).grads;
    const ours = batchGradients(model, batch);
    for (const v of vars)
      expectClose(ours[v.name]!.dataSync(), ref[v.name]!.dataSync(), 1e-5, v.name);
    tf.dispose([ref, ours]);
  });

  it('a logit offset changes the gradient (the loss sees it)', () => {
    const { model, batch } = cases[2]![1]();
    made.push({ model, batch });
    const { offset, ...plain } = batch;
    const withOffset = batchGradients(model, batch);
    const without = batchGradients(model, plain);
    const name = model.dense[1]!.b.name;
    const diff = tf.tidy(
      () => tf.max(tf.abs(tf.sub(withOffset[name]!, without[name]!))).dataSync()[0]!,
    );
    expect(offset).toBeDefined();
    expect(diff).toBeGreaterThan(1e-3);
    tf.dispose([withOffset, without]);
  });

  it('plainStep lowers the loss of a batch it fits and leaks no tensors', () => {
    const { model, batch } = cases[0]![1]();
    made.push({ model, batch });
    const opt = tf.train.adam(1e-2);
    const loss = () => tf.tidy(() => meanLoss(model, batch).dataSync()[0]!);
    const before = loss();
    plainStep(model, opt, batch); // creates Adam's slot variables
    const tensors = tf.memory().numTensors;
    for (let i = 0; i < 30; i++) plainStep(model, opt, batch);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(loss()).toBeLessThan(before);
    opt.dispose();
  });
});
