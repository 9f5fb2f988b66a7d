import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type KernelArgs = Parameters<KernelFunc>[0];

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

/**
 * Wraps a matmul kernel (`BatchMatMul` or `_FusedMatMul`) so that it only ever sees untransposed
 * operands: a transposed operand is first materialised with the backend's Transpose kernel. On
 * wasm, XNNPACK handles only the untransposed product; `transposeA`/`transposeB` — used by every
 * dense-layer gradient — fall to a scalar loop 5–8× slower (performance note 1). The extra copy is
 * O(n²) against O(n³) work. It also routes around a bug of tfjs-backend-wasm 4.22, whose
 * `_FusedMatMul` misapplies the bias when `transposeB` is set (see kernels.test.ts).
 *
 * @example
 * wrapKernel('BatchMatMul', 'wasm', (mm) => untransposedMatMul(mm, getKernel('Transpose', 'wasm')!.kernelFunc));
 */
export function untransposedMatMul(inner: KernelFunc, transpose: KernelFunc): KernelFunc {
  return (args: KernelArgs) => {
    const attrs = args.attrs ?? {};
    const transposeA = attrs.transposeA === true;
    const transposeB = attrs.transposeB === true;
    if (!transposeA && !transposeB) return inner(args);
    const backend = args.backend as BackendWasm;
    const temps: TensorInfo[] = [];
    const materialise = (t: TensorInfo): TensorInfo => {
      const out = transpose({
        inputs: { x: t },
        backend,
        attrs: { perm: swapLastTwo(t.shape.length) },
      }) as TensorInfo;
      temps.push(out);
      return out;
    };
    try {
      const a = transposeA
        ? materialise(args.inputs.a as TensorInfo)
        : (args.inputs.a as TensorInfo);
      const b = transposeB
        ? materialise(args.inputs.b as TensorInfo)
        : (args.inputs.b as TensorInfo);
      const newAttrs: NamedAttrMap = { ...attrs, transposeA: false, transposeB: false };
      return inner({ inputs: { ...args.inputs, a, b }, backend, attrs: newAttrs });
    } finally {
      for (const t of temps) backend.disposeData(t.dataId);
    }
  };
}
