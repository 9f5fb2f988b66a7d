import { and, desc, eq } from 'drizzle-orm';
import type { ModelKind } from '@coopfl/protocol/models';
import {
  MODEL_KINDS,
  defaultArchitecture,
  initialWeights,
  manifestOf,
} from '@coopfl/protocol/models';
import { defaultStrategy } from '@coopfl/protocol/strategy';
import type { CoordinatorContext } from '../context';
import type { Model, ModelVersion } from '../db';
import { modelVersions, models } from '../db';
import { CoordinatorError } from '../errors';
import { audit } from './audit';
import type { ModelConfig, ModelConfigInput } from './model-config';
import { ModelConfigSchema } from './model-config';

/** Weights travel and are stored as little-endian float32 bytes. */
export const weightsToBytes = (w: Float32Array): Uint8Array =>
  new Uint8Array(w.buffer, w.byteOffset, w.byteLength);
export const bytesToWeights = (b: Uint8Array): Float32Array => new Float32Array(b.slice().buffer);

export async function createModel(
  ctx: CoordinatorContext,
  input: {
    id: string;
    name?: string;
    kind: string;
    /** Required for kinds other than the cooperative's three, whose dim is their architecture's. */
    dim?: number;
    config?: ModelConfigInput;
    initialWeights?: Float32Array;
  },
  actor: string,
): Promise<Model> {
  const known = (MODEL_KINDS as readonly string[]).includes(input.kind);
  const configInput: ModelConfigInput = { ...input.config };
  if (known && !configInput.architecture) {
    configInput.architecture = defaultArchitecture(input.kind as ModelKind);
  }
  // The kind's measured default server optimizer (FedAdam for recommendation), unless given.
  if (known && !configInput.strategy)
    configInput.strategy = defaultStrategy(input.kind as ModelKind);
  const parsed = ModelConfigSchema.safeParse(configInput);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CoordinatorError(
      'BadRequest',
      `model config ${issue.path.join('.')}: ${issue.message}`,
    );
  }
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(input.id)) {
    throw new CoordinatorError(
      'BadRequest',
      'model id must be lowercase letters, digits and dashes',
    );
  }
  const arch = parsed.data.architecture;
  if (arch && arch.kind !== input.kind) {
    throw new CoordinatorError(
      'BadRequest',
      `model kind "${input.kind}" but architecture of kind "${arch.kind}"`,
    );
  }
  const archDim = arch ? manifestOf(arch).dim : undefined;
  const dim = input.dim ?? archDim;
  if (dim === undefined) {
    throw new CoordinatorError('BadRequest', `dim is required for a model of kind "${input.kind}"`);
  }
  if (archDim !== undefined && dim !== archDim) {
    throw new CoordinatorError(
      'BadRequest',
      `dim ${dim} does not match the ${input.kind} architecture (${archDim} weights)`,
    );
  }
  if (!(Number.isInteger(dim) && dim > 0 && dim <= 50_000_000)) {
    throw new CoordinatorError('BadRequest', 'dim must be an integer in [1, 50,000,000]');
  }
  // A network starts from random weights drawn once here, so every member starts from the same
  // point; an opaque vector starts at zero.
  const weights =
    input.initialWeights ?? (arch ? initialWeights(arch, ctx.random) : new Float32Array(dim));
  if (weights.length !== dim) {
    throw new CoordinatorError(
      'BadRequest',
      `initial weights have ${weights.length} entries, dim is ${dim}`,
    );
  }
  if (!weights.every(Number.isFinite))
    throw new CoordinatorError('BadRequest', 'initial weights must be finite');
  return ctx.db.transaction(async (tx) => {
    const existing = await tx.select({ id: models.id }).from(models).where(eq(models.id, input.id));
    if (existing.length > 0)
      throw new CoordinatorError('Conflict', `model "${input.id}" already exists`);
    const [model] = await tx
      .insert(models)
      .values({
        id: input.id,
        name: input.name ?? input.id,
        kind: input.kind,
        dim,
        config: parsed.data,
      })
      .returning();
    await tx
      .insert(modelVersions)
      .values({ modelId: input.id, version: 0, weights: weightsToBytes(weights) });
    await audit(tx, actor, 'model.create', input.id, { kind: input.kind, dim });
    return model!;
  });
}

export async function getModel(
  ctx: CoordinatorContext,
  id: string,
): Promise<Model & { parsed: ModelConfig }> {
  const [model] = await ctx.db.select().from(models).where(eq(models.id, id));
  if (!model) throw new CoordinatorError('NotFound', `no model "${id}"`);
  return { ...model, parsed: ModelConfigSchema.parse(model.config) };
}

export async function listModels(ctx: CoordinatorContext) {
  const all = await ctx.db.select().from(models).orderBy(models.id);
  return Promise.all(
    all.map(async (m) => {
      const latest = await latestVersion(ctx, m.id);
      return { ...m, latestVersion: latest.version, metrics: latest.metrics };
    }),
  );
}

/** A model's newest version: its number and metrics (not its weights: see {@link getVersion}). */
export async function latestVersion(
  ctx: Pick<CoordinatorContext, 'db'>,
  modelId: string,
): Promise<Pick<ModelVersion, 'version' | 'metrics'>> {
  const [v] = await ctx.db
    .select({ version: modelVersions.version, metrics: modelVersions.metrics })
    .from(modelVersions)
    .where(eq(modelVersions.modelId, modelId))
    .orderBy(desc(modelVersions.version))
    .limit(1);
  if (!v) throw new CoordinatorError('NotFound', `model "${modelId}" has no versions`);
  return v;
}

/**
 * Model versions are immutable once written, so the (few) recent ones are kept in memory: every
 * member of a round downloads the same base weights. A read in flight is shared, so the round's
 * members asking at once cost one read, not one each.
 */
const versionCaches = new WeakMap<object, Map<string, Promise<ModelVersion>>>();
const CACHE_ENTRIES = 8;

export function getVersion(
  ctx: Pick<CoordinatorContext, 'db'>,
  modelId: string,
  version: number,
): Promise<ModelVersion> {
  let versionCache = versionCaches.get(ctx.db);
  if (!versionCache)
    versionCaches.set(ctx.db, (versionCache = new Map<string, Promise<ModelVersion>>()));
  const cache = versionCache;
  const key = `${modelId}\u0000${version}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const read = (async () => {
    const [v] = await ctx.db
      .select()
      .from(modelVersions)
      .where(and(eq(modelVersions.modelId, modelId), eq(modelVersions.version, version)));
    if (!v) throw new CoordinatorError('NotFound', `model "${modelId}" has no version ${version}`);
    return v;
  })();
  cache.set(key, read);
  // A failed read (or a version not written yet) is not remembered.
  read.catch(() => {
    if (cache.get(key) === read) cache.delete(key);
  });
  if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
  return read;
}
