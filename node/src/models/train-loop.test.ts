import { cryptoReady, seededRandom } from '@coopfl/protocol';
import { defaultArchitecture, initialWeights } from '@coopfl/protocol/models';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { isCoopNodeError } from '../errors';
import { initTf } from '../tf/backend';
import { shuffleInPlace, trainLocal, type ExampleSet } from './train-loop';
import type { LocalTrainingConfig } from './types';

const arch = defaultArchitecture('fraud', { hidden: 8 });
const N = 256;
let set: ExampleSet;

beforeAll(async () => {
  await cryptoReady();
  await initTf({ log: () => undefined });
  // A learnable toy task: label = first feature > 0 (features from a seeded stream).
  const rng = seededRandom(11);
  const bytes = new Uint8Array(N * 20);
  rng.fill(bytes);
  const x = Float32Array.from(bytes, (b) => b / 128 - 1);
  const y = Float32Array.from({ length: N }, (_, i) => (x[i * 20]! > 0 ? 1 : 0));
  set = { x, width: 20, y, yWidth: 1, size: N };
});

const cfg = (over: Partial<LocalTrainingConfig> = {}): LocalTrainingConfig => ({
  epochs: 3,
  learningRate: 1e-2,
  batchSize: 32,
  mu: 0,
  random: seededRandom(2),
  ...over,
});

function distance(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s);
}

describe('trainLocal', () => {
  const global = () => initialWeights(arch, seededRandom(1));

  it('is reproducible with a seeded random source and frees its tensors', async () => {
    const before = tf.memory().numTensors;
    const a = await trainLocal(arch, global(), set, cfg());
    const b = await trainLocal(arch, global(), set, cfg());
    expect(a.weights).toEqual(b.weights);
    expect(a.examples).toBe(N);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('records DP-SGD steps at q = batchSize / examples', async () => {
    const r = await trainLocal(
      arch,
      global(),
      set,
      cfg({ recordDp: { clipNorm: 1, noiseMultiplier: 1.1 } }),
    );
    expect(r.dpEvents).toEqual([
      { mechanism: 'gaussian', noiseMultiplier: 1.1, samplingRate: 32 / N, steps: 3 * (N / 32) },
    ]);
    expect(distance(r.weights, global())).toBeGreaterThan(0);
  });

  it('FedProx with a huge μ keeps the weights near the global ones', async () => {
    const w0 = global();
    const free = await trainLocal(arch, w0, set, cfg());
    const prox = await trainLocal(arch, w0, set, cfg({ mu: 1e4 }));
    const dFree = distance(free.weights, w0);
    const dProx = distance(prox.weights, w0);
    expect(dProx).toBeLessThan(dFree / 5);
  });

  it('rejects bad configs and empty sets clearly', async () => {
    const bad = await trainLocal(arch, global(), set, cfg({ epochs: 0 })).catch((e: unknown) => e);
    expect(isCoopNodeError(bad, 'InvalidArgument')).toBe(true);
    const empty = await trainLocal(arch, global(), { ...set, size: 0 }, cfg()).catch(
      (e: unknown) => e,
    );
    expect(isCoopNodeError(empty, 'InsufficientData')).toBe(true);
  });

  it('shuffles a permutation', () => {
    const rows = Int32Array.from({ length: 50 }, (_, i) => i);
    shuffleInPlace(rows, { random: seededRandom(3) });
    expect([...rows].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect([...rows]).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
