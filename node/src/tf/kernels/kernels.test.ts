import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { initTf } from '../backend';
import { installWasmTrainingKernels } from './register-wasm';
import { segmentSumValues } from './unsorted-segment-sum';
import { restoreKernel } from './wrap';

// Top-level await: describe.skipIf needs the backend when tests are collected.
const { backend } = await initTf({ log: () => {} });
afterAll(async () => {
  installWasmTrainingKernels();
  await tf.setBackend(backend);
});

/** Runs `f` on the wasm backend and on the cpu backend; returns both results as arrays. */
async function onBoth(
  f: () => tf.Tensor,
): Promise<[Float32Array | Int32Array, Float32Array | Int32Array]> {
  await tf.setBackend('wasm');
  const w = tf.tidy(f);
  const wasm = w.dataSync() as Float32Array;
  w.dispose();
  await tf.setBackend('cpu');
  const c = tf.tidy(f);
  const cpu = c.dataSync() as Float32Array;
  c.dispose();
  await tf.setBackend('wasm');
  return [wasm, cpu];
}

function expectRelClose(got: ArrayLike<number>, want: ArrayLike<number>, rel: number): void {
  expect(got.length).toBe(want.length);
  let scale = 1e-30;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  for (let i = 0; i < want.length; i++)
    expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(rel * scale);
}

describe.skipIf(backend !== 'wasm')('wasm training kernels', () => {
  const a = () => tf.randomNormal<tf.Rank.R2>([37, 19], 0, 1, 'float32', 1);
  const b = () => tf.randomNormal<tf.Rank.R2>([37, 23], 0, 1, 'float32', 2);
  const c = () => tf.randomNormal<tf.Rank.R2>([23, 19], 0, 1, 'float32', 3);
  const cases: [string, () => tf.Tensor][] = [
    ['aᵀ·b (transposeA)', () => tf.matMul(a(), b(), true, false)],
    ['b·c (no transpose)', () => tf.matMul(b(), c())],
    ['a·cᵀ (transposeB)', () => tf.matMul(a(), c(), false, true)],
    ['cᵀ·bᵀ (both)', () => tf.matMul(c(), b(), true, true)],
    [
      'batched 3-D, both',
      () =>
        tf.matMul(
          tf.randomNormal([3, 5, 4], 0, 1, 'float32', 4),
          tf.randomNormal([3, 6, 5], 0, 1, 'float32', 5),
          true,
          true,
        ),
    ],
  ];

  it.each(cases)('untransposed matmul: %s equals cpu and the stock wasm kernel', async (_, f) => {
    const [wrapped, cpu] = await onBoth(f);
    expectRelClose(wrapped, cpu, 1e-5);
    restoreKernel('BatchMatMul', 'wasm');
    try {
      const [stock] = await onBoth(f);
      expectRelClose(wrapped, stock, 1e-5);
    } finally {
      installWasmTrainingKernels();
    }
  });

  it('fused matmul with transposed operands and bias equals cpu (the stock wasm kernel does not)', async () => {
    const bias = () => tf.randomNormal([23], 0, 1, 'float32', 6);
    const fusedB = () =>
      tf.fused.matMul({ a: a(), b: c(), transposeB: true, bias: bias(), activation: 'relu' });
    const fusedA = () =>
      tf.fused.matMul({
        a: b(),
        b: a(),
        transposeA: true,
        bias: tf.randomNormal([19], 0, 1, 'float32', 9),
      });
    for (const f of [fusedB, fusedA]) {
      const [wrapped, cpu] = await onBoth(f);
      expectRelClose(wrapped, cpu, 1e-5);
    }
    restoreKernel('_FusedMatMul', 'wasm');
    try {
      const [stock, cpu] = await onBoth(fusedB);
      // tfjs-backend-wasm 4.22 misapplies the bias when transposeB is set: a bug we route around.
      expect(Math.max(...stock.map((v, i) => Math.abs(v - cpu[i]!)))).toBeGreaterThan(1e-3);
    } finally {
      installWasmTrainingKernels();
    }
  });

  it('row gather equals cpu for float32 and int32 tables, 1-D and 2-D indices', async () => {
    const table = () => tf.randomNormal([11, 3], 0, 1, 'float32', 7);
    const ids2d = () =>
      tf.tensor2d(
        [
          [0, 10, 10],
          [3, 3, 5],
        ],
        undefined,
        'int32',
      );
    for (const f of [
      () => tf.gather(table(), ids2d()),
      () => tf.gather(table(), tf.tensor1d([4, 0, 4], 'int32')),
      () => tf.gather(tf.range(0, 11, 1, 'int32'), tf.tensor1d([2, 9, 9], 'int32')),
      () => tf.gather(table(), tf.tensor1d([2, 0], 'int32'), 1), // axis 1: stock kernel
    ]) {
      const [wasm, cpu] = await onBoth(f);
      expect(Array.from(wasm)).toEqual(Array.from(cpu));
    }
    expect(() => tf.tidy(() => tf.gather(table(), tf.tensor1d([11], 'int32')))).toThrow(
      /not in \[0, 10\]/,
    );
  });

  it('oneHot writes float values for float dtypes (the stock wasm kernel writes int32 bits)', async () => {
    const f = () =>
      tf.oneHot(
        tf.tensor2d(
          [
            [3, 0],
            [-1, 2],
          ],
          undefined,
          'int32',
        ),
        4,
        0.5,
        -2,
        'float32',
      );
    const [wasm, cpu] = await onBoth(f);
    expect(Array.from(wasm)).toEqual(Array.from(cpu));
    expect(Array.from(wasm.slice(0, 4))).toEqual([-2, -2, -2, 0.5]);
    const [wi, ci] = await onBoth(() => tf.oneHot(tf.tensor1d([1, 0], 'int32'), 3));
    expect(Array.from(wi)).toEqual(Array.from(ci));
  });

  it('UnsortedSegmentSum equals cpu (and the gather gradient works)', async () => {
    const f = () =>
      tf.unsortedSegmentSum(
        tf.randomNormal([6, 2, 3], 0, 1, 'float32', 8),
        tf.tensor1d([4, 0, 4, 1, 4, 0], 'int32'),
        5,
      );
    const [wasm, cpu] = await onBoth(f);
    expectRelClose(wasm, cpu, 1e-6);
    const g = () =>
      tf.grad((t: tf.Tensor) => tf.sum(tf.gather(t, tf.tensor1d([1, 1, 2], 'int32'))))(
        tf.ones([4, 2]),
      );
    const [gw, gc] = await onBoth(g);
    expect(Array.from(gw)).toEqual([0, 0, 2, 2, 1, 1, 0, 0]);
    expect(Array.from(gw)).toEqual(Array.from(gc));
  });
});

describe('segmentSumValues', () => {
  it('drops ids outside [0, numSegments) and sums the rest', () => {
    const out = segmentSumValues(
      Float32Array.from([1, 2, 3, 4, 5, 6]),
      Int32Array.from([1, -1, 1]),
      2,
    );
    expect(Array.from(out)).toEqual([0, 0, 6, 8]);
  });
});
