import * as tf from '@tensorflow/tfjs-core';
import type { ForwardTrace } from './forward';
import { perExampleLossGradient } from './loss';
import type { Activation, PlainModel } from './model';

/**
 * dL/dz from dL/da for a = act(z), written in terms of the output a (all four activations allow
 * it, so the pre-activation need not be kept): relu 1[a>0], sigmoid a(1−a), tanh 1−a².
 */
export function activationBackward(
  activation: Activation,
  output: tf.Tensor2D,
  dOutput: tf.Tensor2D,
): tf.Tensor2D {
  switch (activation) {
    case 'relu':
      return tf.mul<tf.Tensor2D>(dOutput, tf.step(output));
    case 'sigmoid':
      return tf.mul<tf.Tensor2D>(dOutput, tf.mul(output, tf.sub(1, output)));
    case 'tanh':
      return tf.mul<tf.Tensor2D>(dOutput, tf.sub(1, tf.square(output)));
    case 'linear':
      return dOutput;
  }
}

/** Per-example gradients of the loss with respect to each layer's pre-activation and input. */
export interface OutputGradients {
  /** g_l[i] = ∂loss_i/∂z_l[i] for each dense layer l, [B, out_l]. */
  readonly dz: tf.Tensor2D[];
  /** ∂loss_i/∂a_1[i], the gradient at the first dense layer's input, [B, in_1]; only with an embedding. */
  readonly dInput?: tf.Tensor2D;
}

/**
 * Backpropagates Σ_i scale·loss_i (`scale` default 1) through the dense stack from a
 * {@link ForwardTrace}, returning the gradient at every layer's pre-activation but no weight
 * gradient. Since loss_i depends only on
 * example i, row i of each result is example i's own gradient — the "output gradients" of ghost
 * clipping. The loss gradient is taken in closed form and the stack (matmul, activation) is
 * backpropagated by hand, so that no gradient tape or per-layer probe tensor is needed.
 */
export function outputGradients(
  model: PlainModel,
  trace: ForwardTrace,
  y: tf.Tensor,
  scale = 1,
): OutputGradients {
  const last = model.dense.length - 1;
  const dz: tf.Tensor2D[] = new Array<tf.Tensor2D>(model.dense.length);
  dz[last] = perExampleLossGradient(model.loss, trace.logits, y, scale);
  for (let l = last; l > 0; l--) {
    const dA = tf.matMul<tf.Tensor2D>(dz[l]!, model.dense[l]!.w, false, true);
    dz[l - 1] = activationBackward(model.dense[l - 1]!.activation, trace.inputs[l]!, dA);
  }
  if (!model.embedding) return { dz };
  return { dz, dInput: tf.matMul<tf.Tensor2D>(dz[0]!, model.dense[0]!.w, false, true) };
}
