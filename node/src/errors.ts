/**
 * The one error class of `@coopfl/node`. Codes are a closed set so that callers (the daemon's
 * HTTP edge, the simulator) can map each to a status in one place. Messages name what is wrong
 * and never carry data values, gradients or keys.
 *
 * @example
 * throw new CoopNodeError('InvalidArgument', 'clipNorm must be a positive finite number');
 */
export const NODE_ERROR_CODES = {
  /** A parameter passed to a node function is invalid (type, shape or range). */
  InvalidArgument: 'InvalidArgument',
  /** A model's structure does not fit the requested operation. */
  InvalidModel: 'InvalidModel',
  /** The platform lacks something needed (no usable TF.js backend). */
  Unsupported: 'Unsupported',
  /** The node's configuration is unusable (database target, view names). */
  InvalidConfig: 'InvalidConfig',
  /** The database cannot be reached or opened. */
  DatabaseUnavailable: 'DatabaseUnavailable',
  /** Applying the node's migrations failed. */
  MigrationFailed: 'MigrationFailed',
  /** A relation or column the node reads from the shop's store database is missing. */
  StoreSchemaMismatch: 'StoreSchemaMismatch',
  /** An import cannot proceed at all (unreadable directory or file); bad rows are reported instead. */
  ImportFailed: 'ImportFailed',
} as const;

export type NodeErrorCode = keyof typeof NODE_ERROR_CODES;

export class CoopNodeError extends Error {
  override readonly name = 'CoopNodeError';
  readonly code: NodeErrorCode;

  constructor(code: NodeErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.code = code;
  }
}

/** Type guard that also narrows on the code when one is given. */
export function isCoopNodeError(err: unknown, code?: NodeErrorCode): err is CoopNodeError {
  return err instanceof CoopNodeError && (code === undefined || err.code === code);
}
