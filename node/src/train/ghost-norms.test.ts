import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initTf } from '../tf/backend';
import { idMultiplicity, rowSqNorms } from './ghost-norms';

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
});
