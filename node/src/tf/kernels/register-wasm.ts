import { getKernel, registerKernel } from '@tensorflow/tfjs-core';
import { rowGather } from './gather-rows';
import { oneHotAnyDtype } from './one-hot';
import { unsortedSegmentSumWasmConfig } from './unsorted-segment-sum';
import { untransposedMatMul } from './untransposed-matmul';
import { wrapKernel } from './wrap';

/**
 * Makes the wasm backend fit for training: registers the kernel it lacks (`UnsortedSegmentSum`,
 * needed by embedding gradients, performance note 3), routes transposed matrix products through
 * the fast untransposed path (note 1), gives row gathers (embedding lookups) a copy-based fast
 * path, and fixes float-typed `oneHot`, which the stock kernel gets wrong. Idempotent; call before or after the backend initialises.
 *
 * @example
 * installWasmTrainingKernels();
 * await tf.setBackend('wasm');
 */
export function installWasmTrainingKernels(): void {
  if (!getKernel(unsortedSegmentSumWasmConfig.kernelName, 'wasm')) {
    registerKernel(unsortedSegmentSumWasmConfig);
  }
  const transpose = getKernel('Transpose', 'wasm')?.kernelFunc;
  if (transpose) {
    wrapKernel('BatchMatMul', 'wasm', (mm) => untransposedMatMul(mm, transpose));
    wrapKernel('_FusedMatMul', 'wasm', (mm) => untransposedMatMul(mm, transpose));
  }
  wrapKernel('GatherV2', 'wasm', rowGather);
  wrapKernel('OneHot', 'wasm', oneHotAnyDtype);
}
