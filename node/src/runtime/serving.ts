import type { ModelKind } from '@coopfl/protocol/models';
import type { ModelRuntime, PreparedData } from '../models/types';
import type { ModelProvider, ServedModel } from '../serve/app';
import type { StoreDatabase } from '../store/open';
import type { StoreSource } from '../store/source';
import { preparedCache } from './client-loop';
import { knownModelList, servedModelVersion } from './state';

/**
 * The prediction API's model source (`createServeApp({ provider })`): for a kind, the model of
 * that kind this node stored last from the coordinator — the one whose id equals the kind when
 * the cooperative has several — with its newest stored global version (or this shop's
 * personalized copy of that version, see `personalizeModels`) and the shop's data
 * prepared for its network. Weights are re-read only when a newer version is stored; data is
 * prepared once per network and kept for `dataTtlMs` (default 1 h); `storeId` picks the shop
 * when the store database holds several.
 *
 * @example
 * const provider = createModelProvider(node.db, await node.source(), MODEL_RUNTIMES);
 * await startServe({ port: 8788, provider });
 */
export function createModelProvider(
  db: StoreDatabase,
  source: StoreSource,
  runtimes: Partial<Record<ModelKind, ModelRuntime>>,
  opts: { dataTtlMs?: number; storeId?: string } = {},
): ModelProvider {
  const prepared = preparedCache(source, runtimes, opts.dataTtlMs ?? 3_600_000, opts.storeId);
  return async <K extends ModelKind>(kind: K): Promise<ServedModel<K> | undefined> => {
    const candidates = (await knownModelList(db)).filter((m) => m.kind === kind);
    candidates.sort((a, b) => Number(b.modelId === kind) - Number(a.modelId === kind));
    for (const m of candidates) {
      const latest = await servedModelVersion(db, m.modelId);
      if (!latest) continue;
      const data: PreparedData = await prepared(kind, m.arch);
      return {
        arch: m.arch,
        weights: latest.weights,
        data: data as unknown as ServedModel<K>['data'],
        version: latest.version,
        personalized: latest.personalized,
        modelId: m.modelId,
      };
    }
    return undefined;
  };
}
