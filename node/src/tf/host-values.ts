import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * A tensor's values on the host: on the wasm backend a zero-copy view into the wasm heap, else a
 * copy (`dataSync`). Host loops over small tensors (optimizer updates, per-example norms) are
 * cheaper than a chain of kernels, each with its own dispatch and output allocation.
 *
 * The view is valid only until the next allocation on the backend (which may grow, and so move,
 * the heap): read what you need before creating any tensor. Never write through it into a
 * tensor someone else may hold — the wasm backend caches packed matrix-product weights by data id.
 *
 * @example
 * const w = hostValues(variable); // Float32Array view
 */
export function hostValues(t: tf.TensorInfo): Float32Array | Int32Array {
  const wasm = tf.engine().findBackend('wasm') as BackendWasm | null;
  if (wasm?.dataIdMap.has(t.dataId) && (t.dtype === 'float32' || t.dtype === 'int32')) {
    return wasm.typedArrayFromHeap(t) as Float32Array | Int32Array;
  }
  const values = tf.engine().readSync(t.dataId);
  if (values instanceof Float32Array || values instanceof Int32Array) return values;
  return Float32Array.from(values as ArrayLike<number>);
}

/**
 * A new float32 tensor to be filled on the host: on wasm, memory allocated on the heap that the
 * update writes into directly (no copy); elsewhere a host array uploaded by `value()`. `out` is
 * valid until the next allocation; call `value()` before allocating anything else.
 */
export function newFloatTensor(shape: number[]): { out: Float32Array; value: () => tf.Tensor } {
  const wasm = tf.engine().findBackend('wasm') as BackendWasm | null;
  if (wasm && tf.getBackend() === 'wasm') {
    const info = wasm.makeOutput(shape, 'float32');
    return {
      out: wasm.typedArrayFromHeap(info) as Float32Array,
      value: () => tf.engine().makeTensorFromTensorInfo(info, wasm),
    };
  }
  const out = new Float32Array(tf.util.sizeFromShape(shape));
  return { out, value: () => tf.tensor(out, shape, 'float32') };
}
