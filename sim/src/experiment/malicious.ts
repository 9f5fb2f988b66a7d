import type { ModelKind } from '@coopfl/protocol/models';
import type { ModelRuntime } from '@coopfl/node/models';

/** How a malicious member corrupts its update Δ = w_local − w_global. */
export type Attack =
  { readonly kind: 'scale'; readonly factor: number } | { readonly kind: 'sign-flip' };

/**
 * A model runtime whose local training returns `global + f·(w_local − global)`: f = factor for a
 * scaled update, f = −1 for a sign-flipped one. Everything else (data preparation, evaluation,
 * consent and budget checks, clipping to C, secure aggregation) is the node's own code: the
 * malicious member is a real node started with these runtimes (`openNode`'s `runtimes` option),
 * so its corrupted update still passes through the node's clipping, as a member running modified
 * model code but the stock runtime would.
 *
 * @example
 * openNode(dir, { runtimes: maliciousRuntimes(MODEL_RUNTIMES, { kind: 'sign-flip' }) });
 */
export function maliciousRuntimes(
  runtimes: Partial<Record<ModelKind, ModelRuntime>>,
  attack: Attack,
): Partial<Record<ModelKind, ModelRuntime>> {
  const f = attack.kind === 'scale' ? attack.factor : -1;
  const out: Partial<Record<ModelKind, ModelRuntime>> = {};
  for (const [kind, rt] of Object.entries(runtimes) as [ModelKind, ModelRuntime][]) {
    out[kind] = {
      ...rt,
      train: async (arch, global, data, cfg) => {
        const r = await rt.train(arch, global, data, cfg);
        const w = new Float32Array(r.weights.length);
        for (let i = 0; i < w.length; i++) w[i] = global[i]! + f * (r.weights[i]! - global[i]!);
        return { ...r, weights: w };
      },
    };
  }
  return out;
}
