import { and, desc, eq } from 'drizzle-orm';
import type { KeyPair, NodeId } from '@coopfl/protocol';
import { identityKeyPair, systemRandom } from '@coopfl/protocol';
import type { PrivacyEvent } from '@coopfl/protocol/dp';
import { PrivacyLedger, asDelta, asNoiseMultiplier } from '@coopfl/protocol/dp';
import type { Consent } from '@coopfl/coordinator/client';
import { ConsentSchema, StoredConsentSchema } from '@coopfl/coordinator/client';
import { CoopNodeError } from '../errors';
import type { StoreDatabase } from '../store/open';
import type { Architecture } from '@coopfl/protocol/models';
import { ArchitectureSchema } from '@coopfl/protocol/models';
import type { ROUND_OUTCOMES } from '../store/schema';
import {
  consent,
  identityKeys,
  knownModels,
  localMetrics,
  modelVersions,
  nodeRounds,
  privacySpent,
} from '../store/schema';

/**
 * The node's own state in the `coopfl` schema: its identity key, consent, received model
 * versions, privacy spent and local metrics. Thin functions over drizzle, so the client loop,
 * the CLI and the tests share one definition of each.
 */

/** The identity key pair (Ed25519) registered at joining; created once, never leaves the node. */
export async function loadOrCreateIdentity(db: StoreDatabase): Promise<KeyPair> {
  const [row] = await db.select().from(identityKeys).where(eq(identityKeys.purpose, 'signing'));
  if (row) return identityKeyPair(row.secretKey);
  const seed = new Uint8Array(32);
  systemRandom().fill(seed);
  const kp = identityKeyPair(seed);
  await db
    .insert(identityKeys)
    .values({ purpose: 'signing', publicKey: kp.publicKey, secretKey: seed })
    .onConflictDoNothing();
  seed.fill(0);
  // Another process may have won the race: the stored key is the one.
  return loadOrCreateIdentity(db);
}

/**
 * The secret that pseudonymises customer ids on import (HMAC key, 32 bytes); created once and
 * kept in `coopfl.identity_keys`, so re-imports map a customer to the same id.
 */
export async function loadOrCreateHashKey(db: StoreDatabase): Promise<Uint8Array> {
  const [row] = await db
    .select()
    .from(identityKeys)
    .where(eq(identityKeys.purpose, 'customer_hash'));
  if (row) return row.secretKey;
  const key = new Uint8Array(32);
  systemRandom().fill(key);
  await db
    .insert(identityKeys)
    .values({ purpose: 'customer_hash', secretKey: key })
    .onConflictDoNothing();
  return loadOrCreateHashKey(db);
}

/** The identity key, which must exist (the node has joined). */
export async function loadIdentity(db: StoreDatabase): Promise<KeyPair> {
  const [row] = await db.select().from(identityKeys).where(eq(identityKeys.purpose, 'signing'));
  if (!row) {
    throw new CoopNodeError(
      'NotInitialized',
      'the node database has no identity key (was it initialised with another --store-db?)',
    );
  }
  return identityKeyPair(row.secretKey);
}

/** The member-wide consent document is one row under this reserved model id. */
const CONSENT_ROW = '*';

/** Local consent and whether the coordinator has its current value. Default: all models. */
export async function readConsent(
  db: StoreDatabase,
): Promise<{ consent: Consent; synced: boolean; updatedAt: Date | null }> {
  const [row] = await db.select().from(consent).where(eq(consent.modelId, CONSENT_ROW));
  if (!row) return { consent: ConsentSchema.parse({}), synced: true, updatedAt: null };
  const parsed = StoredConsentSchema.safeParse(row.settings);
  if (!parsed.success) {
    throw new CoopNodeError('InvalidConfig', 'the stored consent is not valid; set it again');
  }
  return {
    consent: parsed.data,
    synced: row.syncedAt !== null && row.syncedAt >= row.updatedAt,
    updatedAt: row.updatedAt,
  };
}

/** Stores consent (not yet synced). Validation errors name the field. */
export async function writeConsent(db: StoreDatabase, input: unknown): Promise<Consent> {
  const parsed = ConsentSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CoopNodeError(
      'InvalidArgument',
      `consent ${issue.path.map(String).join('.') || 'value'}: ${issue.message}`,
    );
  }
  const now = new Date();
  const settings = parsed.data as unknown as Record<string, unknown>;
  await db
    .insert(consent)
    .values({ modelId: CONSENT_ROW, participate: true, settings, updatedAt: now, syncedAt: null })
    .onConflictDoUpdate({
      target: consent.modelId,
      set: { settings, updatedAt: now, syncedAt: null },
    });
  return parsed.data;
}

/** Marks the consent stored at `updatedAt` as mirrored by the coordinator. */
export async function markConsentSynced(db: StoreDatabase, updatedAt: Date): Promise<void> {
  await db
    .update(consent)
    .set({ syncedAt: updatedAt })
    .where(and(eq(consent.modelId, CONSENT_ROW), eq(consent.updatedAt, updatedAt)));
}

/** Stores a global model version received from the coordinator (idempotent). */
export async function saveModelVersion(
  db: StoreDatabase,
  modelId: string,
  version: number,
  weights: Float32Array,
): Promise<void> {
  await db
    .insert(modelVersions)
    .values({
      modelId,
      version,
      source: 'coordinator',
      weights: new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength),
    })
    .onConflictDoNothing();
}

/**
 * Stores this shop's personalized copy of a global version (`source = 'local'`, same version
 * number): served instead of that version, never sent anywhere.
 */
export async function savePersonalizedVersion(
  db: StoreDatabase,
  modelId: string,
  version: number,
  weights: Float32Array,
): Promise<void> {
  const bytes = new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength);
  await db
    .insert(modelVersions)
    .values({ modelId, version, source: 'local', weights: bytes })
    .onConflictDoUpdate({
      target: [modelVersions.modelId, modelVersions.version, modelVersions.source],
      set: { weights: bytes },
    });
}

/** This shop's personalized copy of a global version, or undefined. */
export async function personalizedVersion(
  db: StoreDatabase,
  modelId: string,
  version: number,
): Promise<Float32Array | undefined> {
  const [row] = await db
    .select({ weights: modelVersions.weights })
    .from(modelVersions)
    .where(
      and(
        eq(modelVersions.modelId, modelId),
        eq(modelVersions.version, version),
        eq(modelVersions.source, 'local'),
      ),
    )
    .limit(1);
  return row ? weightsOf(row.weights) : undefined;
}

/**
 * What the node serves of a model: the newest global version, or this shop's personalized copy
 * of exactly that version when one is stored (a copy of an older version is not: a newer global
 * model replaces it until it is personalized in turn).
 */
export async function servedModelVersion(
  db: StoreDatabase,
  modelId: string,
): Promise<{ version: number; weights: Float32Array; personalized: boolean } | undefined> {
  const latest = await latestModelVersion(db, modelId);
  if (!latest) return undefined;
  const own = await personalizedVersion(db, modelId, latest.version);
  return own
    ? { version: latest.version, weights: own, personalized: true }
    : { ...latest, personalized: false };
}

/** Stored weights (float32 LE bytes) as an aligned copy. */
function weightsOf(stored: Uint8Array): Float32Array {
  const bytes = stored.slice();
  return new Float32Array(bytes.buffer, 0, bytes.length / 4);
}

/** The newest stored global version of a model, or undefined. */
export async function latestModelVersion(
  db: StoreDatabase,
  modelId: string,
): Promise<{ version: number; weights: Float32Array } | undefined> {
  const [row] = await db
    .select()
    .from(modelVersions)
    .where(and(eq(modelVersions.modelId, modelId), eq(modelVersions.source, 'coordinator')))
    .orderBy(desc(modelVersions.version))
    .limit(1);
  if (!row) return undefined;
  return { version: row.version, weights: weightsOf(row.weights) };
}

/** Newest stored version per model. */
export async function localVersions(db: StoreDatabase): Promise<Map<string, number>> {
  const rows = await db
    .select({ modelId: modelVersions.modelId, version: modelVersions.version })
    .from(modelVersions)
    .where(eq(modelVersions.source, 'coordinator'));
  const out = new Map<string, number>();
  for (const r of rows) out.set(r.modelId, Math.max(out.get(r.modelId) ?? -1, r.version));
  return out;
}

/** The node's member-level privacy ledger for one model, from `coopfl.privacy_spent`. */
export async function memberLedger(
  db: StoreDatabase,
  modelId: string,
  memberId: NodeId,
  delta: number,
): Promise<PrivacyLedger> {
  const rows = await db
    .select()
    .from(privacySpent)
    .where(and(eq(privacySpent.modelId, modelId), eq(privacySpent.unit, 'member')));
  const events: PrivacyEvent[] = rows.map((r) => {
    const common = {
      samplingRate: r.samplingRate,
      steps: r.steps,
      modelId,
      memberId,
      unit: 'member' as const,
      at: r.createdAt.toISOString(),
    };
    return r.mechanism === 'skellam'
      ? {
          ...common,
          mechanism: 'skellam',
          skellam: r.params as { mu: number; l2Sensitivity: number; l1Sensitivity: number },
        }
      : { ...common, mechanism: 'gaussian', noiseMultiplier: asNoiseMultiplier(r.noiseMultiplier) };
  });
  return new PrivacyLedger({ delta: asDelta(delta), events });
}

/** Appends a member-level event with the ε spent after it. Idempotent per (model, round). */
export async function recordMemberEvent(
  db: StoreDatabase,
  event: PrivacyEvent,
  roundId: string,
  epsilon: number,
  delta: number,
): Promise<void> {
  const existing = await db
    .select({ id: privacySpent.id })
    .from(privacySpent)
    .where(and(eq(privacySpent.modelId, event.modelId), eq(privacySpent.roundId, roundId)));
  if (existing.length > 0) return;
  await db.insert(privacySpent).values({
    modelId: event.modelId,
    roundId,
    unit: 'member',
    mechanism: event.mechanism,
    params: event.mechanism === 'skellam' ? { ...event.skellam } : {},
    noiseMultiplier:
      event.mechanism === 'skellam'
        ? Math.sqrt(2 * event.skellam.mu) / event.skellam.l2Sensitivity
        : event.noiseMultiplier,
    samplingRate: event.samplingRate,
    steps: event.steps,
    epsilon,
    delta,
    // When the round spent it: a cap per period counts events by this time.
    createdAt: new Date(event.at),
  });
}

/** ε spent per model (member level), the latest row's cumulative value. */
export async function epsilonSpent(
  db: StoreDatabase,
): Promise<{ modelId: string; epsilon: number; delta: number; rounds: number }[]> {
  const rows = await db
    .select()
    .from(privacySpent)
    .where(eq(privacySpent.unit, 'member'))
    .orderBy(desc(privacySpent.id));
  const out = new Map<
    string,
    { modelId: string; epsilon: number; delta: number; rounds: number }
  >();
  for (const r of rows) {
    const cur = out.get(r.modelId);
    if (cur) cur.rounds++;
    else out.set(r.modelId, { modelId: r.modelId, epsilon: r.epsilon, delta: r.delta, rounds: 1 });
  }
  return [...out.values()];
}

/** Stores metrics measured on the node's own held-out data. */
export async function saveLocalMetrics(
  db: StoreDatabase,
  modelId: string,
  version: number,
  metrics: Readonly<Record<string, number>>,
  count: number,
): Promise<void> {
  const values = Object.entries(metrics)
    .filter(([, v]) => Number.isFinite(v))
    .map(([name, value]) => ({ modelId, version, name, value, count }));
  if (values.length > 0) await db.insert(localMetrics).values(values);
}

/** Remembers a model's kind and network (from the coordinator's list or a task). */
export async function saveKnownModel(
  db: StoreDatabase,
  modelId: string,
  arch: Architecture,
): Promise<void> {
  const architecture = arch as unknown as Record<string, unknown>;
  await db
    .insert(knownModels)
    .values({ modelId, kind: arch.kind, architecture, updatedAt: new Date() })
    .onConflictDoUpdate({
      target: knownModels.modelId,
      set: { kind: arch.kind, architecture, updatedAt: new Date() },
    });
}

/** The models this node knows, with their networks. */
export async function knownModelList(
  db: StoreDatabase,
): Promise<{ modelId: string; kind: string; arch: Architecture }[]> {
  const rows = await db.select().from(knownModels).orderBy(knownModels.modelId);
  return rows.flatMap((r) => {
    const arch = ArchitectureSchema.safeParse(r.architecture);
    return arch.success ? [{ modelId: r.modelId, kind: r.kind, arch: arch.data }] : [];
  });
}

/** What became of a round at this node. */
export type RoundOutcome = (typeof ROUND_OUTCOMES)[number];

/** Records (or updates) a round's outcome at this node. */
export async function recordRound(
  db: StoreDatabase,
  r: {
    roundId: string;
    modelId: string;
    kind: string;
    outcome: RoundOutcome;
    reason?: string | null;
    resultVersion?: number | null;
  },
): Promise<void> {
  const set = {
    outcome: r.outcome,
    reason: r.reason ?? null,
    resultVersion: r.resultVersion ?? null,
    updatedAt: new Date(),
  };
  await db
    .insert(nodeRounds)
    .values({ roundId: r.roundId, modelId: r.modelId, kind: r.kind, ...set })
    .onConflictDoUpdate({ target: nodeRounds.roundId, set });
}

/** A round this node already handled (in this or an earlier process), if any. */
export async function roundRecord(db: StoreDatabase, roundId: string) {
  const [row] = await db.select().from(nodeRounds).where(eq(nodeRounds.roundId, roundId));
  return row;
}

/** The most recent rounds at this node, newest first. */
export async function recentRounds(db: StoreDatabase, limit = 10) {
  return db.select().from(nodeRounds).orderBy(desc(nodeRounds.updatedAt)).limit(limit);
}
