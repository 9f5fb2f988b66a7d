import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { modelVariables, type Batch, type PlainModel } from './model';
import { meanLoss } from './plain-step';

/** Largest absolute entry. */
export function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]!));
  return m;
}

/**
 * Asserts max|actual − expected| ≤ rel·max|expected| (relative to the tensor's scale, so that
 * entries that are zero up to rounding do not make the check meaningless).
 */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rel: number,
  label: string,
): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  const scale = Math.max(maxAbs(expected), 1e-30);
  let worst = 0;
  for (let i = 0; i < expected.length; i++)
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(
    worst / scale,
    `${label}: max error relative to max |expected| = ${scale}`,
  ).toBeLessThanOrEqual(rel);
}

/**
 * The oracle for per-example clipping: one `tf.variableGrads` (TF.js autodiff through the plain
 * forward pass) per example, its global norm and clipped sum accumulated in float64 on the host.
 */
export function bruteForceClipped(
  model: PlainModel,
  batch: Batch,
  clipNorm: number,
): { sums: Map<string, Float64Array>; norms: number[] } {
  const vars = modelVariables(model);
  const sums = new Map(vars.map((v) => [v.name, new Float64Array(v.size)]));
  const norms: number[] = [];
  for (let i = 0; i < batch.x.shape[0]; i++) {
    const grads = tf.tidy(() => {
      const one: Batch = {
        x: tf.slice(batch.x, i, 1),
        y: tf.slice(batch.y, i, 1),
        ...(batch.offset
          ? { offset: batch.offset.shape[0] === 1 ? batch.offset : tf.slice(batch.offset, i, 1) }
          : {}),
      };
      return tf.variableGrads(() => meanLoss(model, one), vars).grads;
    });
    const values = new Map(vars.map((v) => [v.name, grads[v.name]!.dataSync()]));
    tf.dispose(grads);
    let sq = 0;
    for (const g of values.values()) for (const x of g) sq += x * x;
    const norm = Math.sqrt(sq);
    norms.push(norm);
    const factor = Math.min(1, clipNorm / norm);
    for (const [name, g] of values) {
      const acc = sums.get(name)!;
      for (let k = 0; k < g.length; k++) acc[k]! += factor * g[k]!;
    }
  }
  return { sums, norms };
}

/** The median of numbers (for choosing a clip norm that clips about half the examples). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}
