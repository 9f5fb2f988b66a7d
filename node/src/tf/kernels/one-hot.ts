import { util, type KernelFunc, type OneHotAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type KernelArgs = Parameters<KernelFunc>[0];

/**
 * Wraps the wasm `OneHot` kernel so that non-int32 outputs are right: in tfjs-backend-wasm 4.22
 * the C++ kernel always writes int32 bit patterns, so `oneHot(…, 'float32')` yields 1.4e-45
 * instead of 1 (found by our loss test). Float outputs are filled on the host — a memset and one
 * write per index; int32 outputs still run the original.
 */
export function oneHotAnyDtype(inner: KernelFunc): KernelFunc {
  return (args: KernelArgs) => {
    const { dtype, depth, onValue, offValue } = args.attrs as unknown as OneHotAttrs;
    if (dtype === 'int32') return inner(args);
    const backend = args.backend as BackendWasm;
    const indices = args.inputs.indices as TensorInfo;
    const out = backend.makeOutput([...indices.shape, depth], dtype);
    // Views are taken after makeOutput: an allocation may grow (and so detach) the wasm heap.
    const ids = backend.typedArrayFromHeap(indices);
    const dst = backend.typedArrayFromHeap(out);
    dst.fill(offValue);
    const count = util.sizeFromShape(indices.shape);
    for (let i = 0; i < count; i++) {
      const k = ids[i]!;
      if (k >= 0 && k < depth) dst[i * depth + k] = onValue;
    }
    return out;
  };
}
