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
  /** The node has not joined a cooperative yet (no config in its data directory). */
  NotInitialized: 'NotInitialized',
  /** The node's data directory already holds a joined node (init refuses to overwrite it). */
  AlreadyInitialized: 'AlreadyInitialized',
  /** The coordinator cannot be reached (network error, 5xx) within the retry budget. */
  CoordinatorUnavailable: 'CoordinatorUnavailable',
  /** The coordinator refused a request (4xx): the message is the coordinator's. */
  CoordinatorRejected: 'CoordinatorRejected',
  /** The coordinator is not the one this node trusts (key fingerprint or signature mismatch). */
  UntrustedCoordinator: 'UntrustedCoordinator',
  /** No local model version exists yet for a model (serving before the first round). */
  NoModel: 'NoModel',
  /** The shop's data is too small or too thin for a model (no usable series, no fraud to learn from). */
  InsufficientData: 'InsufficientData',
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
