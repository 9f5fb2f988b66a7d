import type { Handle } from '@sveltejs/kit';
import { userOf } from '$lib/server/session';

/**
 * Sets `locals.user` (and the token) from the httpOnly session cookie on every request; pages
 * then enforce roles on the server. Responses are never cached: they hold a user's own figures.
 */
export const handle: Handle = async ({ event, resolve }) => {
  const session = await userOf(event.cookies).catch(() => null);
  event.locals.user = session?.user ?? null;
  event.locals.token = session?.token ?? null;
  const response = await resolve(event);
  response.headers.set('cache-control', 'no-store');
  response.headers.set('x-frame-options', 'DENY');
  response.headers.set('referrer-policy', 'no-referrer');
  return response;
};
