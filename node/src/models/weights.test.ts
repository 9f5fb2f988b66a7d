import { cryptoReady, seededRandom } from '@coopfl/protocol';
import {
  MODEL_KINDS,
  defaultArchitecture,
  initialWeights,
  manifestOf,
} from '@coopfl/protocol/models';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { isCoopNodeError } from '../errors';
import { initTf } from '../tf/backend';
import { disposeModel, modelVariables } from '../train/model';
import { modelFromWeights, weightsOf } from './weights';

beforeAll(async () => {
  await cryptoReady();
  await initTf({ log: () => undefined });
});

describe('weights ↔ model', () => {
  it.each(MODEL_KINDS)('%s: round-trips and follows the manifest layout', (kind) => {
    const arch = defaultArchitecture(kind, { vocab: 300 });
    const w = initialWeights(arch, seededRandom(1));
    const before = tf.memory().numTensors;
    const model = modelFromWeights(arch, w);
    const back = weightsOf(model);
    expect(back).toEqual(w);
    // Each variable is the manifest's slice, with the manifest's shape.
    const { entries } = manifestOf(arch);
    const vars = modelVariables(model);
    expect(vars.map((v) => v.shape)).toEqual(entries.map((e) => [...e.shape]));
    const last = entries[entries.length - 2]!;
    expect(Array.from(vars[vars.length - 2]!.dataSync())).toEqual(
      Array.from(w.subarray(last.offset, last.offset + last.size)),
    );
    disposeModel(model);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names expected and actual length', () => {
    const arch = defaultArchitecture('fraud');
    const { dim } = manifestOf(arch);
    let err: unknown;
    try {
      modelFromWeights(arch, new Float32Array(dim - 1));
    } catch (e) {
      err = e;
    }
    expect(isCoopNodeError(err, 'InvalidArgument')).toBe(true);
    expect((err as Error).message).toContain(`length ${dim - 1}`);
    expect((err as Error).message).toContain(`expects ${dim}`);
  });
});
