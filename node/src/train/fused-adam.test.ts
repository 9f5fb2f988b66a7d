import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initTf } from '../tf/backend';
import { FusedAdam, type FusedAdamOptions } from './fused-adam';
import { buildModel, disposeModel, modelVariables, type Batch, type PlainModel } from './model';
import { batchGradients, meanLoss, plainStep } from './plain-step';
import { expectClose } from './testkit';

const made: { model: PlainModel; batch: Batch }[] = [];

beforeAll(async () => {
  await initTf({ log: () => {} });
});
afterAll(() => {
  for (const { model, batch } of made) {
    disposeModel(model);
    tf.dispose([batch.x, batch.y]);
  }
});

function embeddingModel(): { model: PlainModel; batch: Batch } {
  const model = buildModel({
    embedding: { vocab: 13, dim: 4 },
    layers: [
      { units: 8, activation: 'relu' },
      { units: 13, activation: 'linear' },
    ],
    loss: 'softmax-ce-logits',
    seed: 5,
  });
  const batch = {
    x: tf.randomUniform<tf.Rank.R2>([16, 3], 0, 13, 'int32', 6),
    y: tf.randomUniform([16], 0, 13, 'int32', 7),
  };
  made.push({ model, batch });
  return { model, batch };
}

describe('FusedAdam', () => {
  it.each<[string, FusedAdamOptions]>([
    ['lr 1e-3, defaults', { learningRate: 1e-3 }],
    ['lr 1e-2, β 0.8/0.99, ε 1e-6', { learningRate: 1e-2, beta1: 0.8, beta2: 0.99, epsilon: 1e-6 }],
  ])('equals tf.train.adam within 1e-6 over several steps (%s)', (_, opts) => {
    const a = embeddingModel();
    const b = embeddingModel();
    const ours = new FusedAdam(opts);
    const ref: tf.Optimizer = tf.train.adam(
      opts.learningRate,
      opts.beta1,
      opts.beta2,
      opts.epsilon,
    );
    for (let step = 0; step < 6; step++) {
      // The same gradients for both (taken from model a), so that only the updates differ.
      const grads = batchGradients(a.model, a.batch);
      const renamed: tf.NamedTensorMap = {};
      modelVariables(a.model).forEach((v, i) => {
        renamed[modelVariables(b.model)[i]!.name] = grads[v.name]!;
      });
      ours.applyGradients(grads);
      ref.applyGradients(renamed);
      tf.dispose(grads);
    }
    modelVariables(a.model).forEach((v, i) => {
      const w = modelVariables(b.model)[i]!;
      expectClose(v.dataSync(), w.dataSync(), 1e-6, v.name);
    });
    expect(ours.iterations).toBe(6);
    ours.dispose();
    ref.dispose();
  });

  it('accepts NamedTensor[] gradients, trains, and leaks no tensors', () => {
    const { model, batch } = embeddingModel();
    const opt = new FusedAdam({ learningRate: 1e-2 });
    const loss = () => tf.tidy(() => meanLoss(model, batch).dataSync()[0]!);
    const grads = batchGradients(model, batch);
    opt.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
    tf.dispose(grads);
    const tensors = tf.memory().numTensors;
    const before = loss();
    for (let i = 0; i < 40; i++) plainStep(model, opt, batch);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(loss()).toBeLessThan(before);
  });

  it('rejects bad options and unknown variables', () => {
    expect(() => new FusedAdam({ learningRate: 0 })).toThrow(/learningRate/);
    expect(() => new FusedAdam({ learningRate: 1e-3, beta1: 1 })).toThrow(/beta1/);
    const opt = new FusedAdam({ learningRate: 1e-3 });
    const g = tf.zeros([2]);
    expect(() => opt.applyGradients({ 'no-such-variable': g })).toThrow(/no variable/);
    g.dispose();
  });
});
