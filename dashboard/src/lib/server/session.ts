import type { Cookies } from '@sveltejs/kit';
import { error, redirect } from '@sveltejs/kit';
import { coordinator, statusOf } from './coordinator';
import { dashboardEnv } from './env';

/** The session cookie: httpOnly (scripts cannot read it), SameSite=Lax, path-wide. */
export const SESSION_COOKIE = 'coopfl_session';

/** Who is logged in, as the coordinator reports it for the session token. */
export interface SessionUser {
  /** An admin's id, or the member's NodeId. */
  id: string;
  kind: 'admin' | 'member';
  role: 'admin' | 'observer' | 'member';
}

/** Stores a coordinator session token in the httpOnly cookie, until the session expires. */
export function setSessionCookie(cookies: Cookies, token: string, expiresAt: string): void {
  cookies.set(SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    // lax: a login link opened from another app still lands logged in; forms are same-origin only.
    sameSite: 'lax',
    secure: dashboardEnv().COOPFL_DASHBOARD_SECURE_COOKIE,
    expires: new Date(expiresAt),
  });
}

export function clearSessionCookie(cookies: Cookies): void {
  cookies.delete(SESSION_COOKIE, { path: '/' });
}

/**
 * Resolves the cookie's token to a user by asking the coordinator (`auth.me`); an unknown or
 * expired token yields null and the cookie is dropped. An unreachable coordinator is an error.
 */
export async function userOf(
  cookies: Cookies,
): Promise<{ user: SessionUser; token: string } | null> {
  const token = cookies.get(SESSION_COOKIE);
  if (!token) return null;
  try {
    const me = await coordinator(token).auth.me.query();
    return { user: { id: me.id, kind: me.kind, role: me.role }, token };
  } catch (err) {
    if (statusOf(err) === 401) {
      clearSessionCookie(cookies);
      return null;
    }
    throw err;
  }
}

/** The logged-in user and token, or a redirect to the login page. */
export function requireUser(locals: App.Locals, next?: URL): { user: SessionUser; token: string } {
  if (!locals.user || !locals.token)
    redirect(303, next ? `/login?next=${encodeURIComponent(next.pathname)}` : '/login');
  return { user: locals.user, token: locals.token };
}

/** Like {@link requireUser}, for pages only the cooperative's staff (admins, observers) see. */
export function requireStaff(locals: App.Locals, next?: URL) {
  const s = requireUser(locals, next);
  if (s.user.role === 'member') error(403, 'This page is for the cooperative admins.');
  return s;
}

/** Like {@link requireUser}, for changes only an admin may make. */
export function requireAdmin(locals: App.Locals) {
  const s = requireUser(locals);
  if (s.user.role !== 'admin') error(403, 'Only an admin may do this.');
  return s;
}

/** Like {@link requireUser}, for a member's own pages (consent). */
export function requireMember(locals: App.Locals, next?: URL) {
  const s = requireUser(locals, next);
  if (s.user.role !== 'member') error(403, 'This page is for a member shop: log in with its link.');
  return s;
}
