import { redirect } from '@sveltejs/kit';
import { clearSessionCookie } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

export const load = (() => redirect(303, '/')) satisfies PageServerLoad;

export const actions = {
  /** Drops the session cookie (the coordinator's session then simply expires). */
  default: ({ cookies }) => {
    clearSessionCookie(cookies);
    redirect(303, '/login');
  },
} satisfies Actions;
