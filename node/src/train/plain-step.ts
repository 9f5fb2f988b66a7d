import * as tf from '@tensorflow/tfjs-core';
import { assembleGradients } from './assemble';
import { outputGradients } from './backprop';
import { forwardTrace, logits } from './forward';
import { perExampleLoss } from './loss';
import type { Batch, PlainModel } from './model';

/** The mean loss of a batch as a scalar tensor (differentiable when called on a gradient tape). */
export function meanLoss(model: PlainModel, batch: Batch): tf.Scalar {
  return tf.mean(perExampleLoss(model.loss, logits(model, batch.x, batch.offset), batch.y));
}

/**
 * The gradient of the mean loss, keyed by variable name; the caller disposes it. Computed like
 * DP-SGD's (fused forward kernels, backpropagation by hand through the dense stack, weight
 * gradients as matrix products) but without clipping. Equal to `tf.variableGrads` of
 * {@link meanLoss} (tested) and leaner on wasm: no gradient tape, and no reduction over the batch
 * axis.
 */
export function batchGradients(model: PlainModel, batch: Batch): tf.NamedTensorMap {
  return tf.tidy(() => {
    const size = batch.x.shape[0];
    const trace = forwardTrace(model, batch.x, batch.offset);
    // The mean's 1/B is applied where it is cheapest: folded into the loss gradient's constant
    // for mse and bce (no extra kernel), as example weights scaling the narrow [B, ·] layer
    // inputs for a wide softmax output.
    if (model.loss !== 'softmax-ce-logits') {
      const grads = outputGradients(model, trace, batch.y, 1 / size);
      return assembleGradients(model, batch.x, trace, grads);
    }
    const grads = outputGradients(model, trace, batch.y);
    return assembleGradients(model, batch.x, trace, grads, tf.fill([size], 1 / size));
  });
}

/**
 * One non-private training step: {@link batchGradients}, then the optimizer's update. No
 * `tf.layers`/`model.fit` machinery (performance note 5). The baseline DP-SGD is measured
 * against, and the step for data that is not personal.
 *
 * @example
 * const opt = tf.train.adam(1e-3);
 * for (const batch of batches) plainStep(model, opt, batch);
 */
export function plainStep(model: PlainModel, optimizer: tf.Optimizer, batch: Batch): void {
  const grads = batchGradients(model, batch);
  try {
    optimizer.applyGradients(grads);
  } finally {
    tf.dispose(grads);
  }
}
