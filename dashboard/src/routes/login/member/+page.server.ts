import type { ActionFailure } from '@sveltejs/kit';
import { fail, redirect } from '@sveltejs/kit';
import { z } from 'zod';
import { parseForm } from '$lib/server/calls';
import { coordinator, messageOf, statusOf } from '$lib/server/coordinator';
import { setSessionCookie } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

const TOKEN = /^cfl_[A-Za-z0-9_-]{43}$/;
const TokenForm = z.object({
  token: z
    .string({ error: 'paste the token from coopfl-node dashboard-link' })
    .trim()
    .regex(TOKEN, 'this is not a member login token (it starts with cfl_)'),
});

/** Exchanges a one-time member login token for a session and opens the member's own page. */
async function exchange(
  token: string,
  cookies: Parameters<typeof setSessionCookie>[0],
): Promise<{ memberId: string } | { failure: ActionFailure<{ field: string; message: string }> }> {
  try {
    const s = await coordinator().auth.memberLogin.mutate({ token });
    setSessionCookie(cookies, s.token, s.expiresAt);
    return { memberId: s.memberId };
  } catch (err) {
    const status = statusOf(err);
    if (status === 401 || status === 403 || status === 400)
      return { failure: fail(400, { field: 'token', message: messageOf(err) }) };
    return {
      failure: fail(502, { field: 'form', message: 'The coordinator is not reachable right now.' }),
    };
  }
}

/** The link a node prints carries `?token=`; it logs in at once (and drops it from the URL). */
export const load = (async ({ url, cookies }) => {
  const token = url.searchParams.get('token');
  if (!token) return { linkError: null };
  if (!TOKEN.test(token)) return { linkError: 'The link does not hold a member login token.' };
  const r = await exchange(token, cookies);
  if ('memberId' in r) redirect(303, `/members/${encodeURIComponent(r.memberId)}`);
  return { linkError: r.failure.data.message };
}) satisfies PageServerLoad;

export const actions = {
  default: async ({ request, cookies }) => {
    const form = await parseForm(request, TokenForm);
    if (!form.ok) return form.failure;
    const r = await exchange(form.data.token, cookies);
    if ('memberId' in r) redirect(303, `/members/${encodeURIComponent(r.memberId)}`);
    return r.failure;
  },
} satisfies Actions;
