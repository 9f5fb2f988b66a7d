/**
 * `@coopfl/coordinator/db`: the coordinator's storage layer. Open a database with
 * {@link openDatabase} (PostgreSQL or embedded PGlite, migrated on open) and query it through the
 * drizzle tables below; row types are inferred from the tables.
 */
export { openDatabase, redactTarget, DEFAULT_DATABASE_PATH, MEMORY_DATABASE } from './open';
export type { Database, DatabaseKind, OpenedDatabase } from './open';
export { bytea, toBytes } from '@coopfl/storage';
export { SQLSTATE, dbErrorInfo, isReferenceViolation } from './sql-errors';
export type { DbErrorInfo } from './sql-errors';
export {
  admins,
  sessions,
  invites,
  members,
  memberKeys,
  requestNonces,
  models,
  modelVersions,
  rounds,
  roundParticipants,
  secaggEvents,
  privacyLedger,
  metrics,
  benchmarkResults,
  BENCHMARK_ACCOUNT,
  BENCHMARK_RESULT_STATUSES,
  consent,
  memberLoginTokens,
  cooperativeSettings,
  auditLog,
  ADMIN_ROLES,
  SESSION_SUBJECT_KINDS,
  SESSION_ROLES,
  MEMBER_STATUSES,
  ROUND_KINDS,
  ROUND_STATUSES,
  SECAGG_EVENT_KINDS,
  PRIVACY_UNITS,
  CONSENT_SOURCES,
} from './schema';
export type {
  JsonObject,
  Admin,
  NewAdmin,
  Session,
  NewSession,
  Invite,
  NewInvite,
  Member,
  NewMember,
  MemberKey,
  NewMemberKey,
  RequestNonce,
  NewRequestNonce,
  Model,
  NewModel,
  ModelVersion,
  NewModelVersion,
  Round,
  NewRound,
  RoundParticipant,
  NewRoundParticipant,
  SecaggEvent,
  NewSecaggEvent,
  PrivacyLedgerEntry,
  NewPrivacyLedgerEntry,
  Metric,
  NewMetric,
  Consent,
  NewConsent,
  AuditLogEntry,
  NewAuditLogEntry,
} from './schema';
export { createTemporaryDatabase } from '@coopfl/storage';
export type { TemporaryDatabase } from '@coopfl/storage';
