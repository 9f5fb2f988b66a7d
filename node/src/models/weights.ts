import * as tf from '@tensorflow/tfjs-core';
import { manifestOf, type Architecture } from '@coopfl/protocol/models';
import { CoopNodeError } from '../errors';
import { buildModel, disposeModel, modelVariables, type PlainModel } from '../train/model';

/**
 * Builds the TF.js model of `arch` and loads `weights` into it. Weights travel between members and
 * the coordinator as one flat float32 vector laid out by `manifestOf(arch)` (embedding table, then
 * each dense kernel [in, out] and bias), which is exactly the order of `modelVariables`.
 * The caller disposes the model (`disposeModel`).
 *
 * @throws CoopNodeError `InvalidArgument` when the vector's length is not the architecture's.
 * @example
 * const model = modelFromWeights(arch, global);
 * try { … } finally { disposeModel(model); }
 */
export function modelFromWeights(arch: Architecture, weights: Float32Array): PlainModel {
  const { dim } = manifestOf(arch);
  checkLength(weights, dim);
  const model = buildModel({
    ...(arch.embedding
      ? { embedding: { vocab: arch.embedding.vocab, dim: arch.embedding.dim } }
      : { inputDim: arch.inputDim! }),
    layers: arch.layers,
    loss: arch.loss,
  });
  try {
    assignWeights(model, weights);
  } catch (err) {
    disposeModel(model);
    throw err;
  }
  return model;
}

function checkLength(weights: Float32Array, dim: number): void {
  if (!(weights instanceof Float32Array)) {
    throw new CoopNodeError('InvalidArgument', 'weights must be a Float32Array');
  }
  if (weights.length !== dim) {
    throw new CoopNodeError(
      'InvalidArgument',
      `weights have length ${weights.length}, the architecture expects ${dim}`,
    );
  }
}

/** Overwrites a model's variables from a flat vector (manifest order). */
export function assignWeights(model: PlainModel, weights: Float32Array): void {
  const vars = modelVariables(model);
  checkLength(
    weights,
    vars.reduce((n, v) => n + v.size, 0),
  );
  let offset = 0;
  for (const v of vars) {
    const t = tf.tensor(weights.subarray(offset, offset + v.size), v.shape, 'float32');
    v.assign(t);
    t.dispose();
    offset += v.size;
  }
}

/** A model's variables as one flat vector in manifest order (what a member uploads). */
export function weightsOf(model: PlainModel): Float32Array {
  const vars = modelVariables(model);
  const out = new Float32Array(vars.reduce((n, v) => n + v.size, 0));
  let offset = 0;
  for (const v of vars) {
    out.set(v.dataSync(), offset);
    offset += v.size;
  }
  return out;
}

/**
 * Runs `fn` on the model of (`arch`, `weights`) and disposes it afterwards: evaluation and serving
 * never leak the model's variables.
 */
export function withModel<T>(
  arch: Architecture,
  weights: Float32Array,
  fn: (m: PlainModel) => T,
): T {
  const model = modelFromWeights(arch, weights);
  try {
    return fn(model);
  } finally {
    disposeModel(model);
  }
}
