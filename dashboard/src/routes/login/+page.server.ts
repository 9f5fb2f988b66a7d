import { fail, redirect } from '@sveltejs/kit';
import { z } from 'zod';
import { parseForm } from '$lib/server/calls';
import { coordinator, messageOf, statusOf } from '$lib/server/coordinator';
import { setSessionCookie } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

/** Only same-site paths are followed after login (no open redirect). */
const safeNext = (next: string | null) => (next && /^\/(?!\/)/.test(next) ? next : '/');

export const load = (({ locals, url }) => {
  if (locals.user) redirect(303, safeNext(url.searchParams.get('next')));
  return {};
}) satisfies PageServerLoad;

const LoginForm = z.object({
  username: z.string({ error: 'enter the username' }).trim().min(1, 'enter the username').max(100),
  password: z.string({ error: 'enter the password' }).min(1, 'enter the password').max(1000),
});

export const actions = {
  /** Admin (or observer) login with the coordinator's `auth.login`; the token goes in a cookie. */
  default: async ({ request, cookies, url }) => {
    const form = await parseForm(request, LoginForm);
    if (!form.ok) return form.failure;
    let session;
    try {
      session = await coordinator().auth.login.mutate(form.data);
    } catch (err) {
      const status = statusOf(err);
      if (status === 401)
        return fail(400, {
          field: 'password',
          message: messageOf(err),
          username: form.data.username,
        });
      if (status === 429)
        return fail(429, { field: 'username', message: 'Too many attempts: wait a minute.' });
      return fail(502, { field: 'form', message: 'The coordinator is not reachable right now.' });
    }
    setSessionCookie(cookies, session.token, session.expiresAt);
    redirect(303, safeNext(url.searchParams.get('next')));
  },
} satisfies Actions;
