import type { NodeId, RoundId } from '@coopfl/protocol';
import type { Delta, Epsilon, NoiseMultiplier } from '@coopfl/protocol/dp';
import { sql } from 'drizzle-orm';
import {
  bigserial,
  check,
  doublePrecision,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  serial,
  text,
  unique,
  uniqueIndex,
  uuid,
  type AnyPgColumn,
} from 'drizzle-orm/pg-core';
import { bytea, createdAt, oneOf, timestamptz } from '@coopfl/storage';

/**
 * The coordinator's tables (DESIGN §3). This file is the source of truth: row types are inferred
 * from it and drizzle-kit generates `coordinator/drizzle/*.sql` from it (`pnpm db:generate`).
 *
 * Deletion policy: a round's own rows (participants, secure-aggregation log, metrics) go with the
 * round; a member's keys, nonces and consent go with the member; but the privacy ledger and round
 * participation *restrict* deletion of the member, model or round they name, because privacy spent
 * must never disappear with the thing that spent it. Members are revoked, not deleted.
 */

/** A JSON object column's TypeScript type; callers parse it with zod at their boundary. */
export type JsonObject = Record<string, unknown>;

export const ADMIN_ROLES = ['admin', 'observer'] as const;
export const SESSION_SUBJECT_KINDS = ['admin', 'member'] as const;
/** Roles a session can carry: an admin's role, or `member` for a shop's dashboard login. */
export const SESSION_ROLES = ['admin', 'observer', 'member'] as const;
export const MEMBER_STATUSES = ['pending', 'approved', 'revoked'] as const;
/** `benchmark` rounds sum the members' KPI vectors (no model: `model_id` and `base_version` are null). */
export const ROUND_KINDS = ['train', 'eval', 'benchmark'] as const;
/** `open` → `advertise` → `shares` → `masked` → `unmask` → `done`, or `failed` from any stage. */
export const ROUND_STATUSES = [
  'open',
  'advertise',
  'shares',
  'masked',
  'unmask',
  'done',
  'failed',
] as const;
export const SECAGG_EVENT_KINDS = ['message', 'deadline', 'checkpoint'] as const;
export const PRIVACY_UNITS = ['member', 'record'] as const;
export const CONSENT_SOURCES = ['node', 'dashboard'] as const;
export const BENCHMARK_RESULT_STATUSES = ['released', 'withheld'] as const;

/** Dashboard and admin-API accounts. `password_hash` is a libsodium pwhash string. */
export const admins = pgTable(
  'admins',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    username: text('username').notNull().unique(),
    passwordHash: text('password_hash').notNull(),
    role: text('role', { enum: ADMIN_ROLES }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [check('admins_role_check', oneOf(t.role, ADMIN_ROLES))],
);

/** Login sessions, stored by the hash of the bearer token so a database leak yields no tokens. */
export const sessions = pgTable(
  'sessions',
  {
    tokenHash: bytea('token_hash').primaryKey(),
    subjectKind: text('subject_kind', { enum: SESSION_SUBJECT_KINDS }).notNull(),
    /** An admin's uuid or a member's NodeId, depending on `subject_kind`. */
    subjectId: text('subject_id').notNull(),
    role: text('role', { enum: SESSION_ROLES }).notNull(),
    expiresAt: timestamptz('expires_at').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    check('sessions_subject_kind_check', oneOf(t.subjectKind, SESSION_SUBJECT_KINDS)),
    check('sessions_role_check', oneOf(t.role, SESSION_ROLES)),
    index('sessions_subject_idx').on(t.subjectKind, t.subjectId),
    index('sessions_expires_at_idx').on(t.expiresAt),
  ],
);

/** Cooperative members (shops). The id is the node's NodeId. */
export const members = pgTable(
  'members',
  {
    id: text('id').$type<NodeId>().primaryKey(),
    name: text('name').notNull(),
    profile: jsonb('profile').$type<JsonObject>().notNull().default({}),
    status: text('status', { enum: MEMBER_STATUSES }).notNull(),
    createdAt: createdAt(),
    approvedAt: timestamptz('approved_at'),
    revokedAt: timestamptz('revoked_at'),
  },
  (t) => [
    check('members_status_check', oneOf(t.status, MEMBER_STATUSES)),
    index('members_status_idx').on(t.status),
  ],
);

/** One-time join invites, stored by token hash; `member_id` is set when the invite is used. */
export const invites = pgTable(
  'invites',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tokenHash: bytea('token_hash').notNull().unique(),
    createdBy: text('created_by').notNull(),
    note: text('note'),
    expiresAt: timestamptz('expires_at').notNull(),
    usedAt: timestamptz('used_at'),
    memberId: text('member_id')
      .$type<NodeId>()
      .references(() => members.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [index('invites_member_idx').on(t.memberId)],
);

/**
 * Members' long-term Ed25519 identity keys (32 bytes). Rotation revokes the old key and inserts a
 * new one; the partial unique index allows at most one active key per member, and a key can belong
 * to only one member ever.
 */
export const memberKeys = pgTable(
  'member_keys',
  {
    id: serial('id').primaryKey(),
    memberId: text('member_id')
      .$type<NodeId>()
      .notNull()
      .references(() => members.id, { onDelete: 'cascade' }),
    publicKey: bytea('public_key').notNull(),
    createdAt: createdAt(),
    revokedAt: timestamptz('revoked_at'),
  },
  (t) => [
    check('member_keys_public_key_length', sql`octet_length(${t.publicKey}) = 32`),
    uniqueIndex('member_keys_one_active_idx')
      .on(t.memberId)
      .where(sql`${t.revokedAt} is null`),
    uniqueIndex('member_keys_public_key_idx').on(t.publicKey),
  ],
);

/** Nonces of signed requests seen until they expire; a repeated (member, nonce) is a replay. */
export const requestNonces = pgTable(
  'request_nonces',
  {
    memberId: text('member_id')
      .$type<NodeId>()
      .notNull()
      .references(() => members.id, { onDelete: 'cascade' }),
    nonce: text('nonce').notNull(),
    expiresAt: timestamptz('expires_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.memberId, t.nonce] }),
    index('request_nonces_expires_at_idx').on(t.expiresAt),
  ],
);

/** Shared models (demand, recommendation, fraud, …); `dim` is the length of the weight vector. */
export const models = pgTable(
  'models',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    kind: text('kind').notNull(),
    dim: integer('dim').notNull(),
    config: jsonb('config').$type<JsonObject>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [check('models_dim_positive', sql`${t.dim} > 0`)],
);

/** Global model versions. Version 0 is the initial model; round `r` writes `result_version`. */
export const modelVersions = pgTable(
  'model_versions',
  {
    id: serial('id').primaryKey(),
    modelId: text('model_id')
      .notNull()
      .references(() => models.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    /** Little-endian float32 weights, `models.dim` entries. */
    weights: bytea('weights').notNull(),
    /** The server optimizer's state (FedAdam/FedYogi moments) after this version, if any. */
    optimizerState: bytea('optimizer_state'),
    roundId: text('round_id')
      .$type<RoundId>()
      .references((): AnyPgColumn => rounds.id, { onDelete: 'set null' }),
    metrics: jsonb('metrics').$type<JsonObject>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [
    unique('model_versions_model_version_key').on(t.modelId, t.version),
    check('model_versions_version_nonnegative', sql`${t.version} >= 0`),
  ],
);

/** Rounds and their persisted stage, so that a restarted coordinator resumes them. */
export const rounds = pgTable(
  'rounds',
  {
    id: text('id').$type<RoundId>().primaryKey(),
    modelId: text('model_id').references(() => models.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: ROUND_KINDS }).notNull(),
    status: text('status', { enum: ROUND_STATUSES }).notNull(),
    config: jsonb('config').$type<JsonObject>().notNull(),
    baseVersion: integer('base_version'),
    resultVersion: integer('result_version'),
    error: text('error'),
    stageDeadline: timestamptz('stage_deadline'),
    createdAt: createdAt(),
    finishedAt: timestamptz('finished_at'),
  },
  (t) => [
    check('rounds_kind_check', oneOf(t.kind, ROUND_KINDS)),
    check('rounds_status_check', oneOf(t.status, ROUND_STATUSES)),
    check(
      'rounds_model_by_kind',
      sql`(${t.kind} = 'benchmark') = (${t.modelId} is null and ${t.baseVersion} is null)`,
    ),
    foreignKey({
      name: 'rounds_base_version_fk',
      columns: [t.modelId, t.baseVersion],
      foreignColumns: [modelVersions.modelId, modelVersions.version],
    }),
    foreignKey({
      name: 'rounds_result_version_fk',
      columns: [t.modelId, t.resultVersion],
      foreignColumns: [modelVersions.modelId, modelVersions.version],
    }),
    index('rounds_model_status_idx').on(t.modelId, t.status),
    index('rounds_status_deadline_idx').on(t.status, t.stageDeadline),
  ],
);

/** The cohort of a round; `client_index` is the member's SecAgg index within the round. */
export const roundParticipants = pgTable(
  'round_participants',
  {
    roundId: text('round_id')
      .$type<RoundId>()
      .notNull()
      .references(() => rounds.id, { onDelete: 'cascade' }),
    memberId: text('member_id')
      .$type<NodeId>()
      .notNull()
      .references(() => members.id, { onDelete: 'restrict' }),
    clientIndex: integer('client_index').notNull(),
    status: text('status').notNull().default('selected'),
  },
  (t) => [
    primaryKey({ columns: [t.roundId, t.memberId] }),
    unique('round_participants_round_client_index_key').on(t.roundId, t.clientIndex),
    check('round_participants_client_index_nonnegative', sql`${t.clientIndex} >= 0`),
    index('round_participants_member_idx').on(t.memberId),
  ],
);

/**
 * Append-only log of each round's secure-aggregation server inputs (client messages and deadline
 * ticks) in the order the server consumed them. Replaying it through the pure server state machine
 * rebuilds the round after a restart; `seq` makes the order total and a duplicate append fail.
 */
export const secaggEvents = pgTable(
  'secagg_events',
  {
    roundId: text('round_id')
      .$type<RoundId>()
      .notNull()
      .references(() => rounds.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    kind: text('kind', { enum: SECAGG_EVENT_KINDS }).notNull(),
    stage: text('stage').notNull(),
    clientIndex: integer('client_index'),
    payload: bytea('payload'),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.roundId, t.seq] }),
    check('secagg_events_kind_check', oneOf(t.kind, SECAGG_EVENT_KINDS)),
    check('secagg_events_seq_nonnegative', sql`${t.seq} >= 0`),
  ],
);

/**
 * Privacy spent, one row per (account, member, round): the account is a model's id, or
 * {@link BENCHMARK_ACCOUNT} for the shared benchmarks. The mechanism parameters are kept so the
 * accountant can recompose the total; `epsilon`/`delta` are what the accountant reported when the
 * row was written. Rows restrict deletion of what they name: privacy spent is never forgotten.
 */
export const privacyLedger = pgTable(
  'privacy_ledger',
  {
    id: serial('id').primaryKey(),
    /** A model's id or `benchmarks` (no foreign key: the benchmarks are no model). */
    modelId: text('model_id').notNull(),
    memberId: text('member_id')
      .$type<NodeId>()
      .notNull()
      .references(() => members.id, { onDelete: 'restrict' }),
    roundId: text('round_id')
      .$type<RoundId>()
      .references(() => rounds.id, { onDelete: 'restrict' }),
    unit: text('unit', { enum: PRIVACY_UNITS }).notNull(),
    mechanism: text('mechanism').notNull(),
    noiseMultiplier: doublePrecision('noise_multiplier').$type<NoiseMultiplier>().notNull(),
    /**
     * Mechanism parameters beyond the noise multiplier (Skellam: total μ and the L2/L1
     * sensitivities in quantized units), so the accountant recomputes ε exactly.
     */
    params: jsonb('params').$type<JsonObject>().notNull().default({}),
    samplingRate: doublePrecision('sampling_rate').notNull(),
    steps: integer('steps').notNull(),
    epsilon: doublePrecision('epsilon').$type<Epsilon>().notNull(),
    delta: doublePrecision('delta').$type<Delta>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    check('privacy_ledger_unit_check', oneOf(t.unit, PRIVACY_UNITS)),
    check(
      'privacy_ledger_ranges',
      sql`${t.noiseMultiplier} > 0 and ${t.samplingRate} > 0 and ${t.samplingRate} <= 1 and ${t.steps} >= 1 and ${t.epsilon} >= 0 and ${t.delta} > 0 and ${t.delta} < 1`,
    ),
    index('privacy_ledger_model_member_idx').on(t.modelId, t.memberId),
    uniqueIndex('privacy_ledger_round_member_idx').on(t.roundId, t.memberId, t.modelId),
  ],
);

/** The privacy-ledger account of the shared benchmarks (model ids are the other accounts). */
export const BENCHMARK_ACCOUNT = 'benchmarks';

/**
 * Released benchmark figures, one row per KPI of a benchmark round: the cooperative's (or a peer
 * group's) DP mean and quartiles with their intervals, or `withheld` with the rule that held it
 * back. Never one shop's figure.
 */
export const benchmarkResults = pgTable(
  'benchmark_results',
  {
    id: serial('id').primaryKey(),
    roundId: text('round_id')
      .$type<RoundId>()
      .notNull()
      .references(() => rounds.id, { onDelete: 'cascade' }),
    period: text('period').notNull(),
    /** `cooperative`, or the peer group's label (`size small · category toys`). */
    peerGroup: text('peer_group').notNull(),
    kpi: text('kpi').notNull(),
    status: text('status', { enum: BENCHMARK_RESULT_STATUSES }).notNull(),
    /** The release: contributors, mean, quartiles, intervals, histogram, noise (see releaseKpi). */
    release: jsonb('release').$type<JsonObject>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    check('benchmark_results_status_check', oneOf(t.status, BENCHMARK_RESULT_STATUSES)),
    uniqueIndex('benchmark_results_round_kpi_idx').on(t.roundId, t.kpi),
    index('benchmark_results_period_idx').on(t.period, t.peerGroup, t.kpi),
  ],
);

/** Aggregate metrics (never one shop's figure): `value` over `count` contributors. */
export const metrics = pgTable(
  'metrics',
  {
    id: serial('id').primaryKey(),
    roundId: text('round_id')
      .$type<RoundId>()
      .references(() => rounds.id, { onDelete: 'cascade' }),
    modelId: text('model_id').references(() => models.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    value: doublePrecision('value').notNull(),
    count: integer('count').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index('metrics_model_name_idx').on(t.modelId, t.name, t.createdAt),
    index('metrics_round_idx').on(t.roundId),
  ],
);

/** Mirror of each member's consent; the node's own settings are authoritative (DESIGN §8). */
export const consent = pgTable('consent', {
  memberId: text('member_id')
    .$type<NodeId>()
    .primaryKey()
    .references(() => members.id, { onDelete: 'cascade' }),
  settings: jsonb('settings').$type<JsonObject>().notNull(),
  updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  /**
   * Who wrote the mirror: `node` (the node synced its local settings) or `dashboard` (the member
   * edited it in the dashboard; its node adopts the edit on its next poll and syncs it back).
   */
  source: text('source', { enum: CONSENT_SOURCES }).notNull().default('node'),
});

/**
 * Short-lived one-time dashboard login tokens a member node mints (`coopfl-node dashboard-link`),
 * stored by hash; exchanging one opens a member session.
 */
export const memberLoginTokens = pgTable(
  'member_login_tokens',
  {
    tokenHash: bytea('token_hash').primaryKey(),
    memberId: text('member_id')
      .$type<NodeId>()
      .notNull()
      .references(() => members.id, { onDelete: 'cascade' }),
    expiresAt: timestamptz('expires_at').notNull(),
    usedAt: timestamptz('used_at'),
    createdAt: createdAt(),
  },
  (t) => [index('member_login_tokens_member_idx').on(t.memberId)],
);

/** Cooperative-wide settings edited in the dashboard (e.g. the round schedule), one JSON per key. */
export const cooperativeSettings = pgTable('cooperative_settings', {
  key: text('key').primaryKey(),
  value: jsonb('value').$type<JsonObject>().notNull(),
  updatedAt: timestamptz('updated_at').notNull().defaultNow(),
});

/** Who did what, when. Details never hold secrets, vectors or keys. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamptz('at').notNull().defaultNow(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    subject: text('subject'),
    details: jsonb('details').$type<JsonObject>().notNull().default({}),
  },
  (t) => [index('audit_log_at_idx').on(t.at), index('audit_log_subject_idx').on(t.subject)],
);

export type Admin = typeof admins.$inferSelect;
export type NewAdmin = typeof admins.$inferInsert;
export type Session = typeof sessions.$inferSelect;
export type NewSession = typeof sessions.$inferInsert;
export type Invite = typeof invites.$inferSelect;
export type NewInvite = typeof invites.$inferInsert;
export type Member = typeof members.$inferSelect;
export type NewMember = typeof members.$inferInsert;
export type MemberKey = typeof memberKeys.$inferSelect;
export type NewMemberKey = typeof memberKeys.$inferInsert;
export type RequestNonce = typeof requestNonces.$inferSelect;
export type NewRequestNonce = typeof requestNonces.$inferInsert;
export type Model = typeof models.$inferSelect;
export type NewModel = typeof models.$inferInsert;
export type ModelVersion = typeof modelVersions.$inferSelect;
export type NewModelVersion = typeof modelVersions.$inferInsert;
export type Round = typeof rounds.$inferSelect;
export type NewRound = typeof rounds.$inferInsert;
export type RoundParticipant = typeof roundParticipants.$inferSelect;
export type NewRoundParticipant = typeof roundParticipants.$inferInsert;
export type SecaggEvent = typeof secaggEvents.$inferSelect;
export type NewSecaggEvent = typeof secaggEvents.$inferInsert;
export type PrivacyLedgerEntry = typeof privacyLedger.$inferSelect;
export type NewPrivacyLedgerEntry = typeof privacyLedger.$inferInsert;
export type Metric = typeof metrics.$inferSelect;
export type NewMetric = typeof metrics.$inferInsert;
export type Consent = typeof consent.$inferSelect;
export type NewConsent = typeof consent.$inferInsert;
export type MemberLoginToken = typeof memberLoginTokens.$inferSelect;
export type CooperativeSetting = typeof cooperativeSettings.$inferSelect;
export type AuditLogEntry = typeof auditLog.$inferSelect;
export type NewAuditLogEntry = typeof auditLog.$inferInsert;
