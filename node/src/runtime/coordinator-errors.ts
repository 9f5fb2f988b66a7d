import { CoopNodeError, isCoopNodeError } from '../errors';

/** The parts of a tRPC client error we read (the node does not depend on @trpc/client). */
interface TrpcLike {
  name: string;
  message: string;
  data?: { httpStatus?: number; coopflCode?: string } | null;
  cause?: unknown;
}

const UNTRUSTED = /fingerprint mismatch|not signed by the pinned|different key than it advertised/;
const UNREACHABLE =
  /coordinator unreachable|fetch failed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|socket/i;

/**
 * Maps whatever the coordinator client threw to one {@link CoopNodeError}, in one place:
 * impostor keys → `UntrustedCoordinator`, network and 5xx → `CoordinatorUnavailable`, 4xx →
 * `CoordinatorRejected` with the coordinator's message (which names what is wrong), a malformed
 * invite → `InvalidArgument`.
 */
export function coordinatorError(err: unknown, doing: string): CoopNodeError {
  if (isCoopNodeError(err)) return err;
  const e = err as Partial<TrpcLike> | undefined;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (UNTRUSTED.test(message)) {
    return new CoopNodeError('UntrustedCoordinator', `${doing}: ${message}`, { cause: err });
  }
  if (e?.name === 'CoordinatorError') {
    // Thrown locally by the client library (e.g. parsing the invite), before any request.
    return new CoopNodeError('InvalidArgument', message.replace(/^\w+: /, ''), { cause: err });
  }
  const status = e?.data?.httpStatus;
  if (status !== undefined && status < 500) {
    return new CoopNodeError('CoordinatorRejected', `${doing}: ${message}`, { cause: err });
  }
  if (status !== undefined || UNREACHABLE.test(message) || e?.name === 'TRPCClientError') {
    return new CoopNodeError('CoordinatorUnavailable', `${doing}: ${message}`, { cause: err });
  }
  return new CoopNodeError('CoordinatorUnavailable', `${doing}: ${message}`, { cause: err });
}
