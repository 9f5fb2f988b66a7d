import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initTf } from '../tf/backend';
import {
  denseSqNorms,
  embeddingSqNorms,
  hostPerExampleSqNorms,
  hostRowSqNorms,
  idMultiplicity,
  rowSqNorms,
} from './ghost-norms';
import { expectClose } from './testkit';

beforeAll(async () => {
  await initTf({ log: () => {} });
});

describe('ghost norm helpers', () => {
  it('idMultiplicity counts equal pairs (Σ count²)', () => {
    const m = tf.tidy(() =>
      idMultiplicity(
        tf.tensor2d(
          [
            [1, 2, 3],
            [4, 4, 4],
            [5, 6, 5],
          ],
          undefined,
          'int32',
        ),
      ),
    );
    expect(Array.from(m.dataSync())).toEqual([3, 9, 5]);
    m.dispose();
  });

  it('rowSqNorms', () => {
    const r = tf.tidy(() =>
      rowSqNorms(
        tf.tensor2d([
          [3, 4],
          [1, -1],
        ]),
      ),
    );
    expect(Array.from(r.dataSync())).toEqual([25, 2]);
    r.dispose();
  });

  it('hostPerExampleSqNorms equals the device closed forms (dense layers and an embedding)', () => {
    const a = [
      tf.randomNormal<tf.Rank.R2>([5, 3], 0, 1, 'float32', 1),
      tf.randomNormal<tf.Rank.R2>([5, 4], 0, 1, 'float32', 2),
    ];
    const g = [
      tf.randomNormal<tf.Rank.R2>([5, 4], 0, 1, 'float32', 3),
      tf.randomNormal<tf.Rank.R2>([5, 2], 0, 1, 'float32', 4),
    ];
    const ids = tf.tensor2d(
      [
        [1, 1, 2],
        [0, 3, 4],
        [2, 2, 2],
        [4, 0, 4],
        [1, 2, 3],
      ],
      undefined,
      'int32',
    );
    const dInput = a[0]!;
    const expected = tf.tidy(() =>
      tf.addN([
        denseSqNorms(a[0]!, g[0]!),
        denseSqNorms(a[1]!, g[1]!),
        embeddingSqNorms(ids, dInput),
      ]),
    );
    const host = hostPerExampleSqNorms(a, g, { ids, dInput });
    const device = expected.dataSync();
    tf.dispose([a, g, ids, expected]);
    expectClose(host, device, 1e-6, 'squared norms');
    const r = tf.tensor2d([
      [3, 4],
      [1, -1],
    ]);
    expect(Array.from(hostRowSqNorms(r))).toEqual([25, 2]);
    r.dispose();
  });
});
