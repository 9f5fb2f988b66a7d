import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { LossKind } from './model';

/**
 * Softmax cross-entropy per example from logits [B, K] and int32 class ids [B], with the
 * closed-form gradient `softmax(z) − onehot(y)`. Both value and gradient come from one `softmax`
 * (XNNPACK-vectorised on wasm, ~4× faster there than `exp`), and no gradient is computed for the
 * labels: on a 5,000-way output this element-wise work rivals the matrix products (performance
 * note 2). The value is computed stably as (max_j z_j − z_y) − log(max_j p_j): max_j p_j ≥ 1/K
 * never underflows, unlike p_y.
 */
export function softmaxCrossEntropyPerExample(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
): tf.Tensor1D {
  const [batch, classes] = logits.shape;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const z = args[0] as tf.Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    const probs = tf.softmax(z);
    save([probs]);
    // z[i, y_i], picked from the flattened matrix at i·K + y_i.
    const flatIndex = tf.add(
      tf.mul(tf.range(0, batch, 1, 'int32'), tf.scalar(classes, 'int32')),
      labels,
    );
    const picked = tf.gather(tf.reshape(z, [-1]), flatIndex);
    const value = tf.sub<tf.Tensor1D>(tf.sub(tf.max(z, 1), picked), tf.log(tf.max(probs, 1)));
    const gradFunc = (dy: tf.Tensor1D, saved: tf.Tensor[]): tf.Tensor => {
      const onehot = tf.oneHot(labels, classes, 1, 0, 'float32');
      return tf.mul(tf.reshape(dy, [batch, 1]), tf.sub(saved[0]!, onehot));
    };
    return { value, gradFunc };
  });
  return op(logits);
}

/**
 * Binary cross-entropy per example from logits [B, out] and 0/1 targets of the same shape, as
 * `max(z,0) − z·y + log(1 + e^−|z|)` (stable for large |z|) with the closed-form gradient
 * `(σ(z) − y)/out`. Averaged over outputs.
 */
export function sigmoidCrossEntropyPerExample(
  logits: tf.Tensor2D,
  targets: tf.Tensor2D,
): tf.Tensor1D {
  const outputs = logits.shape[1];
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const z = args[0] as tf.Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    save([z]);
    const elementwise = tf.add(
      tf.sub(tf.relu(z), tf.mul(z, targets)),
      tf.log1p(tf.exp(tf.neg(tf.abs(z)))),
    );
    const value = tf.mean<tf.Tensor1D>(elementwise, 1);
    const gradFunc = (dy: tf.Tensor1D, saved: tf.Tensor[]): tf.Tensor => {
      const scale = tf.div(tf.reshape(dy, [-1, 1]), tf.scalar(outputs));
      return tf.mul(scale, tf.sub(tf.sigmoid(saved[0]!), targets));
    };
    return { value, gradFunc };
  });
  return op(logits);
}

/** Targets [B] become [B, 1] so they line up with single-output logits. */
function asColumns(y: tf.Tensor): tf.Tensor2D {
  return (y.rank === 1 ? tf.reshape(y, [-1, 1]) : y) as tf.Tensor2D;
}

/**
 * The loss of each example of a batch, shape [B]. Record-level DP-SGD needs losses per example
 * (their gradients are what gets clipped); a plain step averages them.
 *
 * @example
 * const losses = perExampleLoss('mse', logits, y); // [B]
 */
export function perExampleLoss(kind: LossKind, logits: tf.Tensor2D, y: tf.Tensor): tf.Tensor1D {
  switch (kind) {
    case 'mse':
      return tf.mean(tf.squaredDifference(logits, asColumns(y)), 1);
    case 'mae':
      return tf.mean(tf.abs(tf.sub(logits, asColumns(y))), 1);
    case 'bce-logits':
      return sigmoidCrossEntropyPerExample(logits, asColumns(y));
    case 'softmax-ce-logits':
      return softmaxCrossEntropyPerExample(logits, y as tf.Tensor1D);
  }
}

/**
 * softmax(z) − onehot(y). On wasm the one is subtracted in place from the fresh softmax output
 * (B writes) instead of building a [B, K] one-hot matrix and subtracting it: two fewer passes over
 * R3's 256×5,000 logits. Labels outside [0, K) get no one, as `tf.oneHot` gives them none.
 */
function softmaxMinusOneHot(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor2D {
  const [batch, classes] = logits.shape;
  const probs = tf.softmax(logits);
  const wasm = tf.engine().findBackend('wasm') as BackendWasm | null;
  if (
    wasm?.dataIdMap.has(probs.dataId) &&
    wasm.dataIdMap.has(labels.dataId) &&
    labels.dtype === 'int32'
  ) {
    // `probs` is a new tensor no one else holds, so writing into its memory is safe.
    const p = wasm.typedArrayFromHeap(probs) as Float32Array;
    const y = wasm.typedArrayFromHeap(labels) as Int32Array;
    for (let i = 0; i < batch; i++) {
      const k = y[i]!;
      if (k >= 0 && k < classes) p[i * classes + k] = p[i * classes + k]! - 1;
    }
    return probs;
  }
  return tf.sub(probs, tf.oneHot(labels, classes, 1, 0, 'float32'));
}

/**
 * `scale`·∂loss_i/∂z_i for every example, [B, out], in closed form — what
 * {@link perExampleLoss}'s gradient is, without a gradient tape and without computing the loss
 * value a training step does not need: `2(z − y)/out` (mse), `sign(z − y)/out` (mae),
 * `(σ(z) − y)/out` (bce-logits),
 * `softmax(z) − onehot(y)` (softmax-ce-logits). On R3's 5,000-way output this skips the row
 * maxima, logarithm and gather of the value (~4 ms per batch on wasm). `scale` (default 1) is
 * folded into the constant of mse and bce, so a plain step gets the mean's 1/B for free; it costs
 * one more pass for softmax. Tested against `tf.grad` of {@link perExampleLoss}.
 *
 * @example
 * const dz = perExampleLossGradient('mse', logits, y); // [B, out]
 */
export function perExampleLossGradient(
  kind: LossKind,
  logits: tf.Tensor2D,
  y: tf.Tensor,
  scale = 1,
): tf.Tensor2D {
  const outputs = logits.shape[1];
  return tf.tidy(() => {
    switch (kind) {
      case 'mse':
        return tf.mul<tf.Tensor2D>(tf.sub(logits, asColumns(y)), (2 * scale) / outputs);
      case 'mae':
        return tf.mul<tf.Tensor2D>(tf.sign(tf.sub(logits, asColumns(y))), scale / outputs);
      case 'bce-logits': {
        const d = tf.sub<tf.Tensor2D>(tf.sigmoid(logits), asColumns(y));
        return scale / outputs === 1 ? d : tf.mul<tf.Tensor2D>(d, scale / outputs);
      }
      case 'softmax-ce-logits': {
        const d = softmaxMinusOneHot(logits, y as tf.Tensor1D);
        return scale === 1 ? d : tf.mul<tf.Tensor2D>(d, scale);
      }
    }
  });
}
