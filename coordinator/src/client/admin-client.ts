import { createTRPCClient, httpLink } from '@trpc/client';
import type { AppRouter } from '../http/router';

/** A typed tRPC client for admins (and dashboards) authenticated by a bearer session token. */
export function adminClient(url: string, token?: string) {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${url}/trpc`,
        headers: () => (token ? { authorization: `Bearer ${token}` } : {}),
      }),
    ],
  });
}
export type AdminClient = ReturnType<typeof adminClient>;

/** Logs in and returns a client bound to the new session. */
export async function loginAdmin(
  url: string,
  username: string,
  password: string,
): Promise<{ client: AdminClient; token: string }> {
  const { token } = await adminClient(url).auth.login.mutate({ username, password });
  return { client: adminClient(url, token), token };
}
