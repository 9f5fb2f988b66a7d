/**
 * The one error class of `@coopfl/coordinator`. Codes are a closed set so that the HTTP/tRPC edge
 * maps each to a status in one place. Messages name what is wrong (a target, a table, a round) and
 * never carry credentials, vectors, keys or SQL parameters.
 *
 * @example
 * throw new CoordinatorError('DatabaseUnavailable', 'cannot connect to postgres://db:5432/coop');
 */
export const COORDINATOR_ERROR_CODES = {
  /** A configuration value (database target, environment variable) is invalid. */
  InvalidConfig: 'InvalidConfig',
  /** The database could not be opened or reached. */
  DatabaseUnavailable: 'DatabaseUnavailable',
  /** Applying the schema migrations failed; the database was left at its previous migration. */
  MigrationFailed: 'MigrationFailed',
} as const;

export type CoordinatorErrorCode = keyof typeof COORDINATOR_ERROR_CODES;

export class CoordinatorError extends Error {
  override readonly name = 'CoordinatorError';
  readonly code: CoordinatorErrorCode;

  constructor(code: CoordinatorErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.code = code;
  }
}

/** Type guard that also narrows on the code when one is given. */
export function isCoordinatorError(
  err: unknown,
  code?: CoordinatorErrorCode,
): err is CoordinatorError {
  return err instanceof CoordinatorError && (code === undefined || err.code === code);
}
