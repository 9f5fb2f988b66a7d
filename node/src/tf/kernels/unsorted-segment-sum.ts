import {
  UnsortedSegmentSum,
  util,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
  type UnsortedSegmentSumAttrs,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * Sums slices of `x` into `numSegments` buckets chosen by `segmentIds` (TensorFlow semantics:
 * ids outside [0, numSegments) are dropped). Pure JS over flat arrays so that it can back a
 * kernel on any backend that can read and write host memory.
 */
export function segmentSumValues(
  x: Float32Array | Int32Array,
  segmentIds: Int32Array,
  numSegments: number,
): Float32Array | Int32Array {
  const n = segmentIds.length;
  const inner = n === 0 ? 0 : x.length / n;
  const out =
    x instanceof Int32Array
      ? new Int32Array(numSegments * inner)
      : new Float32Array(numSegments * inner);
  for (let i = 0; i < n; i++) {
    const seg = segmentIds[i]!;
    if (seg < 0 || seg >= numSegments) continue;
    const src = i * inner;
    const dst = seg * inner;
    for (let k = 0; k < inner; k++) out[dst + k]! += x[src + k]!;
  }
  return out;
}

function unsortedSegmentSumWasm(args: Parameters<KernelFunc>[0]): TensorInfo {
  const backend = args.backend as BackendWasm;
  const x = args.inputs.x as TensorInfo;
  const segmentIds = args.inputs.segmentIds as TensorInfo;
  const { numSegments } = args.attrs as unknown as UnsortedSegmentSumAttrs;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`UnsortedSegmentSum (JS kernel) supports float32 and int32, got ${x.dtype}`);
  }
  const xv = backend.readSync(x.dataId) as Float32Array | Int32Array;
  const raw = backend.readSync(segmentIds.dataId);
  const ids = raw instanceof Int32Array ? raw : Int32Array.from(raw as ArrayLike<number>);
  util.assert(
    util.sizeFromShape(segmentIds.shape) === ids.length &&
      xv.length % Math.max(ids.length, 1) === 0,
    () => 'UnsortedSegmentSum: segmentIds must index the leading dimensions of x',
  );
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  const out = segmentSumValues(xv, ids, numSegments);
  return backend.makeOutput(outShape, x.dtype, undefined, out);
}

/**
 * `UnsortedSegmentSum` for the wasm backend, which does not ship one. TF.js needs it for the
 * gradient of `gather` (embedding lookups); without it any embedding model fails to train on wasm
 * (performance note 3). Embedding gradients are small (batch × ids × dim), so JS is fast enough.
 */
export const unsortedSegmentSumWasmConfig: KernelConfig = {
  kernelName: UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSumWasm,
};
