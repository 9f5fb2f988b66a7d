import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initTf, type TfInitResult } from './backend';

const lines: string[] = [];
let chosen: TfInitResult;

beforeAll(async () => {
  chosen = await initTf({ log: (l) => lines.push(l) });
});

/** Gradient of a tiny embedding model (gather → mean → dense → softmax CE) by TF.js autodiff. */
function embeddingModelGradients(): Map<string, Float32Array> {
  const table = tf.variable(
    tf.tensor2d([
      [0.1, -0.2, 0.3],
      [0.4, 0.5, -0.6],
      [-0.7, 0.8, 0.9],
      [1.0, -1.1, 1.2],
      [0.2, 0.1, 0.0],
    ]),
    true,
    'bt_table',
  );
  const w = tf.variable(
    tf.tensor2d([
      [0.3, -0.1],
      [0.2, 0.7],
      [-0.5, 0.4],
    ]),
    true,
    'bt_w',
  );
  const grads = tf.tidy(() => {
    const ids = tf.tensor2d(
      [
        [0, 1, 1],
        [3, 2, 4],
        [4, 4, 4],
      ],
      undefined,
      'int32',
    );
    const labels = tf.oneHot(tf.tensor1d([1, 0, 1], 'int32'), 2);
    return tf.variableGrads(() => {
      const pooled = tf.mean<tf.Tensor2D>(tf.gather(table, ids), 1);
      return tf.losses.softmaxCrossEntropy(labels, tf.matMul(pooled, w));
    }, [table, w]).grads;
  });
  const out = new Map(Object.entries(grads).map(([k, g]) => [k, g.dataSync() as Float32Array]));
  tf.dispose([grads, table, w]);
  return out;
}

describe('initTf', () => {
  it('chooses a backend, logs it once, and returns the same answer on later calls', async () => {
    expect(['tensorflow', 'wasm', 'cpu']).toContain(chosen.backend);
    expect(tf.getBackend()).toBe(chosen.backend);
    // On CoopFL machines tfjs-node is not installed and wasm must work: never train on cpu by accident.
    expect(chosen.backend).not.toBe('cpu');
    expect(await initTf({ log: (l) => lines.push(l) })).toBe(chosen);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(chosen.backend);
  });

  it('trains an embedding model: its gradient equals the cpu backend’s within 1e-5', async () => {
    const onChosen = embeddingModelGradients();
    await tf.setBackend('cpu');
    try {
      const onCpu = embeddingModelGradients();
      for (const [name, expected] of onCpu) {
        const got = onChosen.get(name)!;
        const scale = Math.max(...expected.map(Math.abs));
        for (let i = 0; i < expected.length; i++)
          expect(Math.abs(got[i]! - expected[i]!)).toBeLessThanOrEqual(1e-5 * scale);
      }
      expect(Math.max(...onCpu.get('bt_table')!.map(Math.abs))).toBeGreaterThan(0);
    } finally {
      await tf.setBackend(chosen.backend);
    }
  });
});
