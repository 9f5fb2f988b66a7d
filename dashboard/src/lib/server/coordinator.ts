import { TRPCClientError, createTRPCClient, httpLink } from '@trpc/client';
import type { AppRouter } from '@coopfl/coordinator';
import { dashboardEnv } from './env';

/**
 * The typed tRPC client of the coordinator, bound to a session token. This is the dashboard's only
 * way to the coordinator: server code (loads, actions, hooks) calls it; the browser never sees the
 * token or the coordinator's URL.
 *
 * @example
 * const overview = await coordinator(locals.token).dashboard.overview.query();
 */
export function coordinator(token?: string | null) {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${dashboardEnv().COOPFL_COORDINATOR_URL}/trpc`,
        headers: () => (token ? { authorization: `Bearer ${token}` } : {}),
      }),
    ],
  });
}
export type Coordinator = ReturnType<typeof coordinator>;

/** The HTTP status a coordinator call failed with (0: no answer at all). */
export function statusOf(err: unknown): number {
  if (err instanceof TRPCClientError) {
    const data = (err as TRPCClientError<AppRouter>).data;
    return typeof data?.httpStatus === 'number' ? data.httpStatus : 0;
  }
  return 0;
}

/** The coordinator's own error code (e.g. `Unauthenticated`), when it sent one. */
export function codeOf(err: unknown): string | undefined {
  if (!(err instanceof TRPCClientError)) return undefined;
  const code = (err as TRPCClientError<AppRouter>).data?.coopflCode;
  return typeof code === 'string' ? code : undefined;
}

/**
 * The coordinator's message for a failed call, without its code prefix. Input refused by a
 * procedure's schema reads `field: problem`, naming the field.
 */
export function messageOf(err: unknown): string {
  if (!(err instanceof TRPCClientError)) return 'the coordinator did not answer';
  const code = codeOf(err);
  return code && err.message.startsWith(`${code}: `)
    ? err.message.slice(code.length + 2)
    : err.message;
}
