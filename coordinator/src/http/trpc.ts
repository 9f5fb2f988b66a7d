import { TRPCError, initTRPC } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import { isProtocolError } from '@coopfl/protocol';
import type { CoordinatorContext } from '../context';
import type { Member } from '../db';
import { CoordinatorError, isCoordinatorError } from '../errors';
import type { RoundHost } from '../rounds/host';
import type { Principal } from '../services/admins';

/** Per-request context: services, plus who is calling (a signed node, or a bearer session). */
export type RequestContext = {
  app: CoordinatorContext;
  rounds: RoundHost;
  node?: Member;
  principal?: Principal;
  clientAddress: string;
};

export const TRPC_CODE_OF_STATUS: Record<number, TRPC_ERROR_CODE_KEY> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  410: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  429: 'TOO_MANY_REQUESTS',
  500: 'INTERNAL_SERVER_ERROR',
  503: 'SERVICE_UNAVAILABLE',
};

/** Maps our errors to tRPC's in one place; the response carries our code as `data.coopflCode`. */
export function toTrpcError(err: unknown): TRPCError {
  if (err instanceof TRPCError) return err;
  if (isCoordinatorError(err))
    return new TRPCError({
      code: TRPC_CODE_OF_STATUS[err.status] ?? 'INTERNAL_SERVER_ERROR',
      message: err.message,
      cause: err,
    });
  if (isProtocolError(err))
    return new TRPCError({ code: 'BAD_REQUEST', message: err.message, cause: err });
  return new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'internal error', cause: err });
}

const t = initTRPC.context<RequestContext>().create({
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const coopflCode = isCoordinatorError(cause) || isProtocolError(cause) ? cause.code : undefined;
    const zodIssue = (cause as { issues?: { path: PropertyKey[]; message: string }[] } | undefined)
      ?.issues?.[0];
    // An unexpected error's own message may hold internals (drizzle puts SQL parameters in its).
    const internal = error.code === 'INTERNAL_SERVER_ERROR' && !coopflCode;
    return {
      ...shape,
      message: zodIssue
        ? `${zodIssue.path.map(String).join('.') || 'input'}: ${zodIssue.message}`
        : internal
          ? 'internal error'
          : shape.message,
      data: { ...shape.data, stack: undefined, coopflCode },
    };
  },
});

const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok) {
    const cause = result.error.cause;
    if (isCoordinatorError(cause) || isProtocolError(cause)) throw toTrpcError(cause);
  }
  return result;
});

export const router = t.router;
export const publicProcedure = t.procedure.use(mapErrors);

/** Signed requests from an approved (or pending, for status) member node. */
export const nodeProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.node)
    throw new CoordinatorError('Unauthenticated', 'this call needs a signed node request');
  return next({ ctx: { ...ctx, node: ctx.node } });
});

/** A bearer session of any role. */
export const sessionProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.principal)
    throw new CoordinatorError('Unauthenticated', 'log in first (Authorization: Bearer <token>)');
  return next({ ctx: { ...ctx, principal: ctx.principal } });
});

/** Admin or observer (read-only views). */
export const staffProcedure = sessionProcedure.use(({ ctx, next }) => {
  if (ctx.principal.role === 'member')
    throw new CoordinatorError('Forbidden', 'this view is for the cooperative admins');
  return next();
});

/** Admin only (changes). */
export const adminProcedure = sessionProcedure.use(({ ctx, next }) => {
  if (ctx.principal.role !== 'admin')
    throw new CoordinatorError('Forbidden', `role ${ctx.principal.role} may not do this`);
  return next();
});
