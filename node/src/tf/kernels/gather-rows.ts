import { util, type GatherV2Attrs, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type KernelArgs = Parameters<KernelFunc>[0];

/**
 * Wraps the wasm `GatherV2` kernel with a fast path for row lookups (axis 0, no batch dims,
 * float32/int32): one contiguous copy per index within the wasm heap. The stock
 * kernel costs ~50 ns per gathered element (≈5 ms for R3's 256×10 ids × 32 dims, both in the
 * embedding lookup and in its gradient), ~50× more than a copy. Other cases run the original.
 */
export function rowGather(inner: KernelFunc): KernelFunc {
  return (args: KernelArgs) => {
    const x = args.inputs.x as TensorInfo;
    const indices = args.inputs.indices as TensorInfo;
    const { axis, batchDims } = args.attrs as unknown as GatherV2Attrs;
    const rows = x.shape[0] ?? 0;
    const fast =
      (axis === 0 || axis === -x.shape.length) &&
      (batchDims ?? 0) === 0 &&
      (x.dtype === 'float32' || x.dtype === 'int32') &&
      indices.dtype === 'int32' &&
      rows > 0;
    if (!fast) return inner(args);
    const backend = args.backend as BackendWasm;
    const slice = util.sizeFromShape(x.shape) / rows;
    const count = util.sizeFromShape(indices.shape);
    const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    // Views are taken after makeOutput: an allocation may grow (and so detach) the wasm heap.
    // Rows are copied on one 32-bit view of the heap (bit patterns, no conversion, no allocation).
    const src = backend.typedArrayFromHeap(x);
    const ids = backend.typedArrayFromHeap(indices) as Int32Array;
    const dst = backend.typedArrayFromHeap(out);
    const heap = new Int32Array(src.buffer);
    const srcBase = src.byteOffset >> 2;
    const dstBase = dst.byteOffset >> 2;
    for (let i = 0; i < count; i++) {
      const r = ids[i]!;
      if (!(r >= 0 && r < rows)) {
        backend.disposeData(out.dataId);
        throw new Error(`GatherV2: the index value ${r} is not in [0, ${rows - 1}]`);
      }
      const from = srcBase + r * slice;
      const to = dstBase + i * slice;
      if (slice > 256) heap.copyWithin(to, from, from + slice);
      else for (let k = 0; k < slice; k++) heap[to + k] = heap[from + k]!;
    }
    return out;
  };
}
