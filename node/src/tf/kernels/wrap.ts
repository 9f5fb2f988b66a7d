import {
  getKernel,
  registerKernel,
  unregisterKernel,
  type KernelConfig,
  type KernelFunc,
} from '@tensorflow/tfjs-core';

/** Kernel functions installed by {@link wrapKernel}, so that a kernel is never wrapped twice. */
const wrapped = new WeakSet<KernelFunc>();
/** The kernels replaced by {@link wrapKernel}, keyed `backend/kernel`. */
const originals = new Map<string, KernelConfig>();

/**
 * Replaces the registered `kernelName` kernel of `backendName` by `wrap(original)`, keeping the
 * original's setup and dispose functions (the wrapper usually delegates to it). Used to give a
 * backend faster paths for the cases training hits, while every other case still runs the
 * original. Idempotent; returns false if the kernel is not registered.
 */
export function wrapKernel(
  kernelName: string,
  backendName: string,
  wrap: (original: KernelFunc) => KernelFunc,
): boolean {
  const original = getKernel(kernelName, backendName);
  if (!original) return false;
  if (wrapped.has(original.kernelFunc)) return true;
  const kernelFunc = wrap(original.kernelFunc);
  wrapped.add(kernelFunc);
  originals.set(`${backendName}/${kernelName}`, original);
  unregisterKernel(kernelName, backendName);
  registerKernel({ ...original, kernelFunc });
  return true;
}

/**
 * Puts back the kernel that {@link wrapKernel} replaced (for A/B measurements and for tests that
 * compare both paths). Returns false if nothing was replaced.
 */
export function restoreKernel(kernelName: string, backendName: string): boolean {
  const key = `${backendName}/${kernelName}`;
  const original = originals.get(key);
  if (!original) return false;
  unregisterKernel(kernelName, backendName);
  registerKernel(original);
  originals.delete(key);
  return true;
}
