import { redirect } from '@sveltejs/kit';
import { z } from 'zod';
import { actionOr, loadOr, parseForm } from '$lib/server/calls';
import { coordinator } from '$lib/server/coordinator';
import { requireAdmin, requireUser } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

/** Admins see every member; a member is sent to its own page (it never lists other shops). */
export const load = (async ({ locals, url }) => {
  const { user, token } = requireUser(locals, url);
  if (user.role === 'member') redirect(303, `/members/${encodeURIComponent(user.id)}`);
  const members = await loadOr(() => coordinator(token).members.list.query());
  return { role: user.role, members };
}) satisfies PageServerLoad;

const InviteForm = z.object({
  expiresInHours: z.coerce
    .number({ error: 'hours must be a number' })
    .positive('hours must be more than 0')
    .max(2160, 'at most 2160 hours (90 days)'),
  note: z.string().trim().max(200, 'at most 200 characters').optional(),
});
const MemberForm = z.object({
  memberId: z.string({ error: 'choose a member' }).trim().min(1, 'choose a member').max(200),
});

export const actions = {
  /** A single-use invite string for one shop, to copy into `coopfl-node init --invite`. */
  invite: async ({ locals, request }) => {
    const { token } = requireAdmin(locals);
    const form = await parseForm(request, InviteForm);
    if (!form.ok) return form.failure;
    const r = await actionOr(
      () =>
        coordinator(token).invites.create.mutate({
          expiresInHours: form.data.expiresInHours,
          ...(form.data.note ? { note: form.data.note } : {}),
        }),
      'expiresInHours',
    );
    if (!r.ok) return r.failure;
    return { invite: r.value.invite, expiresAt: r.value.expiresAt };
  },
  approve: async ({ locals, request }) => {
    const { token } = requireAdmin(locals);
    const form = await parseForm(request, MemberForm);
    if (!form.ok) return form.failure;
    const r = await actionOr(
      () => coordinator(token).members.approve.mutate(form.data),
      'memberId',
    );
    if (!r.ok) return r.failure;
    return { changed: r.value };
  },
  revoke: async ({ locals, request }) => {
    const { token } = requireAdmin(locals);
    const form = await parseForm(request, MemberForm);
    if (!form.ok) return form.failure;
    const r = await actionOr(() => coordinator(token).members.revoke.mutate(form.data), 'memberId');
    if (!r.ok) return r.failure;
    return { changed: r.value };
  },
} satisfies Actions;
