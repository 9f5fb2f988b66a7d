import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, it } from 'vitest';
import { initTf } from '../tf/backend';
import { perExampleLoss, perExampleLossGradient } from './loss';
import { expectClose } from './testkit';

beforeAll(async () => {
  await initTf({ log: () => {} });
});

const logits = () =>
  tf.tensor2d([
    [2, -1, 0.5, 30],
    [-40, 0, 3, 1],
    [0.1, 0.2, 0.3, 0.4],
  ]);

describe('perExampleLoss', () => {
  it('softmax-ce-logits: value and gradient match tf.losses.softmaxCrossEntropy', () => {
    const labels = [3, 0, 2];
    const ours = tf.tidy(() => {
      const z = logits();
      const y = tf.tensor1d(labels, 'int32');
      return [
        perExampleLoss('softmax-ce-logits', z, y),
        tf.grad((t: tf.Tensor) => tf.sum(perExampleLoss('softmax-ce-logits', t as tf.Tensor2D, y)))(
          z,
        ),
      ];
    });
    const ref = tf.tidy(() => {
      const z = logits();
      const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 4);
      const f = (t: tf.Tensor) =>
        tf.losses.softmaxCrossEntropy(y, t, undefined, 0, tf.Reduction.NONE);
      return [f(z), tf.grad((t: tf.Tensor) => tf.sum(f(t)))(z)];
    });
    // Example 1 has p_y ≈ e^-43: the value must stay finite and exact (≈ 43.05).
    expectClose(ours[0]!.dataSync(), ref[0]!.dataSync(), 1e-6, 'value');
    expectClose(ours[1]!.dataSync(), ref[1]!.dataSync(), 1e-6, 'gradient');
    tf.dispose([ours, ref]);
  });

  it('bce-logits: value and gradient match tf.losses.sigmoidCrossEntropy', () => {
    const targets = [
      [1, 0, 1, 0],
      [0, 0, 1, 1],
      [1, 1, 1, 0],
    ];
    const ours = tf.tidy(() => {
      const z = logits();
      const y = tf.tensor2d(targets);
      return [
        perExampleLoss('bce-logits', z, y),
        tf.grad((t: tf.Tensor) => tf.sum(perExampleLoss('bce-logits', t as tf.Tensor2D, y)))(z),
      ];
    });
    const ref = tf.tidy(() => {
      const z = logits();
      const y = tf.tensor2d(targets);
      const f = (t: tf.Tensor) =>
        tf.mean(tf.losses.sigmoidCrossEntropy(y, t, undefined, 0, tf.Reduction.NONE), 1);
      return [f(z), tf.grad((t: tf.Tensor) => tf.sum(f(t)))(z)];
    });
    expectClose(ours[0]!.dataSync(), ref[0]!.dataSync(), 1e-6, 'value');
    expectClose(ours[1]!.dataSync(), ref[1]!.dataSync(), 1e-6, 'gradient');
    tf.dispose([ours, ref]);
  });

  it('mae: mean absolute error over outputs; its gradient is sign(z − y)/out', () => {
    const v = tf.tidy(() =>
      perExampleLoss(
        'mae',
        tf.tensor2d([
          [1, -2],
          [3, 0.5],
        ]),
        tf.tensor2d([
          [0, 0],
          [1, 1],
        ]),
      ),
    );
    expectClose(v.dataSync(), [1.5, 1.25], 1e-7, 'mae');
    v.dispose();
  });

  it('mse: mean squared error over outputs, targets [B] or [B, out]', () => {
    const v = tf.tidy(() => perExampleLoss('mse', tf.tensor2d([[1], [3]]), tf.tensor1d([0, 1])));
    expectClose(v.dataSync(), [1, 4], 0, 'mse');
    v.dispose();
  });

  it.each([
    [
      'mse',
      () =>
        tf.tensor2d([
          [1, 2, 0, -3],
          [0, 0, 0, 0],
          [5, -1, 2, 2],
        ]),
    ],
    [
      'bce-logits',
      () =>
        tf.tensor2d([
          [1, 0, 1, 0],
          [0, 0, 1, 1],
          [1, 1, 1, 0],
        ]),
    ],
    [
      'mae', // no target equal to its logit: |x| has no derivative at 0
      () =>
        tf.tensor2d([
          [1, 2, 0, -3],
          [0.5, -0.5, 1, 2],
          [5, -1, 2, 2],
        ]),
    ],
    ['softmax-ce-logits', () => tf.tensor1d([3, 0, 2], 'int32')],
  ] as const)('%s: perExampleLossGradient equals tf.grad of the summed loss', (kind, targets) => {
    const [ours, ref] = tf.tidy(() => {
      const z = logits();
      const y = targets();
      return [
        perExampleLossGradient(kind, z, y),
        tf.grad((t: tf.Tensor) => tf.sum(perExampleLoss(kind, t as tf.Tensor2D, y)))(z),
      ];
    });
    expectClose(ours.dataSync(), ref.dataSync(), 1e-6, kind);
    tf.dispose([ours, ref]);
  });

  it('perExampleLossGradient takes [B] targets for single-output losses', () => {
    const g = tf.tidy(() =>
      perExampleLossGradient('mse', tf.tensor2d([[1], [3]]), tf.tensor1d([0, 1])),
    );
    expectClose(g.dataSync(), [2, 4], 0, 'mse [B]');
    g.dispose();
  });
});
