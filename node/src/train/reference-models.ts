import * as tf from '@tensorflow/tfjs-core';
import { defaultArchitecture, type Architecture, type ModelKind } from '@coopfl/protocol/models';
import { buildModel, type Batch, type PlainModel } from './model';

/**
 * Models the training benchmark measures: the three reference models of the performance notes
 * (issue 5) and the cooperative's three default networks (`defaultArchitecture`).
 */
export type ReferenceModelName = 'R1' | 'R2' | 'R3' | ModelKind;
export const REFERENCE_MODELS: readonly ReferenceModelName[] = [
  'R1',
  'R2',
  'R3',
  'demand',
  'recommendation',
  'fraud',
];

/** The {@link ModelSpec} of an architecture (the shared shape, as members build it). */
export function specOf(arch: Architecture, seed?: number) {
  return {
    ...(arch.embedding
      ? { embedding: { vocab: arch.embedding.vocab, dim: arch.embedding.dim } }
      : { inputDim: arch.inputDim! }),
    layers: arch.layers,
    loss: arch.loss,
    ...(seed === undefined ? {} : { seed }),
  };
}

/** R3's catalogue size and history length. */
export const R3_ITEMS = 5000;
export const R3_HISTORY = 10;

/**
 * Builds a reference model: R1 64 → 128 relu → 64 relu → 1, MSE; R2 32 → 64 relu → 32 relu → 1,
 * BCE (sigmoid folded into the loss); R3 the last 10 of 5,000 item ids → embedding 32,
 * mean-pooled → 64 relu → 5,000-way softmax (loss from logits).
 *
 * @example
 * const r3 = referenceModel('R3');
 */
export function referenceModel(name: ReferenceModelName, seed = 1): PlainModel {
  switch (name) {
    case 'R1':
      return buildModel({
        inputDim: 64,
        layers: [
          { units: 128, activation: 'relu' },
          { units: 64, activation: 'relu' },
          { units: 1, activation: 'linear' },
        ],
        loss: 'mse',
        seed,
      });
    case 'R2':
      return buildModel({
        inputDim: 32,
        layers: [
          { units: 64, activation: 'relu' },
          { units: 32, activation: 'relu' },
          { units: 1, activation: 'linear' },
        ],
        loss: 'bce-logits',
        seed,
      });
    case 'R3':
      return buildModel({
        embedding: { vocab: R3_ITEMS, dim: 32 },
        layers: [
          { units: 64, activation: 'relu' },
          { units: R3_ITEMS, activation: 'linear' },
        ],
        loss: 'softmax-ce-logits',
        seed,
      });
    case 'demand':
    case 'recommendation':
    case 'fraud':
      return buildModel(specOf(defaultArchitecture(name), seed));
  }
}

/**
 * A synthetic batch of the right shapes and types for a reference model (features and targets
 * from TF.js's seeded generators: benchmark data, not privacy-relevant).
 */
export function syntheticBatch(name: ReferenceModelName, size: number, seed = 7): Batch {
  return tf.tidy(() => {
    switch (name) {
      case 'R1':
        return {
          x: tf.randomNormal<tf.Rank.R2>([size, 64], 0, 1, 'float32', seed),
          y: tf.randomNormal([size], 0, 1, 'float32', seed + 1),
        };
      case 'R2':
        return {
          x: tf.randomNormal<tf.Rank.R2>([size, 32], 0, 1, 'float32', seed),
          y: tf.cast(
            tf.greater(tf.randomUniform([size], 0, 1, 'float32', seed + 1), 0.5),
            'float32',
          ),
        };
      case 'R3':
        return {
          x: tf.randomUniform<tf.Rank.R2>([size, R3_HISTORY], 0, R3_ITEMS, 'int32', seed),
          y: tf.randomUniform([size], 0, R3_ITEMS, 'int32', seed + 1),
        };
      case 'demand':
      case 'recommendation':
      case 'fraud': {
        const arch = defaultArchitecture(name);
        const out = arch.layers[arch.layers.length - 1]!.units;
        if (arch.embedding) {
          const { vocab, history } = arch.embedding;
          return {
            x: tf.randomUniform<tf.Rank.R2>([size, history], 1, vocab, 'int32', seed),
            y: tf.randomUniform([size], 1, vocab, 'int32', seed + 1),
          };
        }
        const x = tf.randomNormal<tf.Rank.R2>([size, arch.inputDim!], 0, 1, 'float32', seed);
        if (arch.loss === 'bce-logits') {
          const y = tf.greater(tf.randomUniform([size], 0, 1, 'float32', seed + 1), 0.97);
          return { x, y: tf.cast(y, 'float32') };
        }
        return { x, y: tf.randomNormal([size, out], 0, 1, 'float32', seed + 1) };
      }
    }
  });
}
