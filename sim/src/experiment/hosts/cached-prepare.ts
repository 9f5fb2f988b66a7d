import type { ModelKind } from '@coopfl/protocol/models';
import type { ModelRuntime } from '@coopfl/node/models';

/** JSON with object keys sorted (an architecture read back from jsonb has its keys reordered). */
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * The same runtimes with `prepare` memoized per (kind, options). The simulator runs each node's
 * client loop once per round (`run({ once: true })`), and each run starts with an empty prepared
 * data cache; a continuously running node keeps its prepared data for an hour, so this restores
 * that behaviour, and lets the simulator evaluate on exactly the data the node trains on.
 *
 * @example
 * openNode(dir, { runtimes: cachedPrepare(MODEL_RUNTIMES) });
 */
export function cachedPrepare(
  runtimes: Partial<Record<ModelKind, ModelRuntime>>,
): Partial<Record<ModelKind, ModelRuntime>> {
  const out: Partial<Record<ModelKind, ModelRuntime>> = {};
  for (const [kind, rt] of Object.entries(runtimes) as [ModelKind, ModelRuntime][]) {
    const cache = new Map<string, ReturnType<ModelRuntime['prepare']>>();
    out[kind] = {
      ...rt,
      prepare: (source, opts) => {
        const key = stableJson(opts);
        let hit = cache.get(key);
        if (!hit) {
          hit = rt.prepare(source, opts);
          cache.set(key, hit);
          hit.catch(() => cache.delete(key));
        }
        return hit;
      },
    };
  }
  return out;
}
