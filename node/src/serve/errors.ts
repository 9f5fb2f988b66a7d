import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { NodeErrorCode } from '../errors';

/**
 * The codes the local prediction API answers with, each with its HTTP status. Every error body is
 * `{ error: { code, message } }`; messages name the parameter or field that is wrong and never
 * echo the values the caller sent (customer ids, order contents).
 */
export const SERVE_ERROR_STATUS = {
  BadRequest: 400,
  Unauthenticated: 401,
  NotFound: 404,
  PayloadTooLarge: 413,
  Internal: 500,
  ModelUnavailable: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

/** A code of {@link SERVE_ERROR_STATUS}. */
export type ServeErrorCode = keyof typeof SERVE_ERROR_STATUS;

/** The JSON body of every error response of the local prediction API. */
export interface ServeErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

/**
 * The one place where the node's {@link NodeErrorCode}s become HTTP statuses. A `Record` over the
 * closed code set, so a new node error code fails type-checking here until it is mapped.
 * `undefined` means "a fault of the node, not of the request": answered 500 `Internal` and logged.
 * `InvalidArgument` is such a fault here: the edge validates every request field (and checks
 * that a catalog key exists) before calling a model, so one raised below is the node's own
 * (e.g. weights that do not fit the architecture).
 */
export const NODE_ERROR_HTTP: Readonly<Record<NodeErrorCode, ServeErrorCode | undefined>> = {
  InvalidArgument: undefined,
  InvalidModel: undefined,
  Unsupported: undefined,
  InvalidConfig: undefined,
  DatabaseUnavailable: 'ModelUnavailable',
  MigrationFailed: undefined,
  StoreSchemaMismatch: undefined,
  ImportFailed: undefined,
  NotInitialized: 'ModelUnavailable',
  AlreadyInitialized: undefined,
  CoordinatorUnavailable: 'ModelUnavailable',
  CoordinatorRejected: undefined,
  UntrustedCoordinator: undefined,
  NoModel: 'ModelUnavailable',
  InsufficientData: 'ModelUnavailable',
};

/** An error response with the status of `code` (plus any extra headers, e.g. `www-authenticate`). */
export function errorResponse(
  code: ServeErrorCode,
  message: string,
  headers?: Record<string, string>,
): Response {
  const body: ServeErrorBody = { error: { code, message } };
  return Response.json(body, { status: SERVE_ERROR_STATUS[code], ...(headers ? { headers } : {}) });
}
