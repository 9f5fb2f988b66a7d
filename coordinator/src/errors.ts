/**
 * The one error class of `@coopfl/coordinator`. Codes are a closed set, each with the HTTP status
 * the edge maps it to (tRPC errors derive from the same status), so the mapping lives in one place.
 * Messages name what is wrong (a member, a round, a field) and never carry credentials, tokens,
 * vectors, keys or SQL parameters.
 *
 * @example
 * throw new CoordinatorError('UnknownMember', 'unknown member "shop-1a2b"');
 */
export const COORDINATOR_ERROR_CODES = {
  /** A configuration value (database target, environment variable) is invalid. */
  InvalidConfig: 500,
  /** The database could not be opened or reached. */
  DatabaseUnavailable: 503,
  /** Applying the schema migrations failed; the database was left at its previous migration. */
  MigrationFailed: 500,
  /** The request is malformed or a value is out of range. */
  BadRequest: 400,
  /** No or an unknown credential. */
  Unauthenticated: 401,
  /** A node request's signature (or a proof) does not verify. */
  BadSignature: 401,
  /** A node request's timestamp is outside the freshness window. */
  StaleRequest: 401,
  /** A node request (nonce) was already served. */
  ReplayedRequest: 409,
  /** The caller may not do or see this. */
  Forbidden: 403,
  /** A signed request names a member that does not exist (or has no active key). */
  UnknownMember: 403,
  /** The member has been revoked. */
  MemberRevoked: 403,
  /** An invite is unknown, used or expired. */
  InviteInvalid: 403,
  NotFound: 404,
  /** The request conflicts with the current state (a duplicate, a closed round). */
  Conflict: 409,
  /** The round has already been released or has failed. */
  RoundOver: 410,
  /** A request body is over the configured limit. */
  PayloadTooLarge: 413,
  /** Too many attempts from one address. */
  RateLimited: 429,
} as const;

export type CoordinatorErrorCode = keyof typeof COORDINATOR_ERROR_CODES;

export class CoordinatorError extends Error {
  override readonly name = 'CoordinatorError';
  readonly code: CoordinatorErrorCode;

  constructor(code: CoordinatorErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.code = code;
  }

  /** The HTTP status this error maps to. */
  get status(): (typeof COORDINATOR_ERROR_CODES)[CoordinatorErrorCode] {
    return COORDINATOR_ERROR_CODES[this.code];
  }
}

/** Type guard that also narrows on the code when one is given. */
export function isCoordinatorError(
  err: unknown,
  code?: CoordinatorErrorCode,
): err is CoordinatorError {
  return err instanceof CoordinatorError && (code === undefined || err.code === code);
}
