import { loadOr } from '$lib/server/calls';
import { coordinator } from '$lib/server/coordinator';
import { requireUser } from '$lib/server/session';
import type { PageServerLoad } from './$types';

/**
 * A member's page. The coordinator refuses a member asking for another shop (403), so a member
 * opening another member's URL gets the 403 page; admins see every member.
 */
export const load = (async ({ locals, params, url }) => {
  const { user, token } = requireUser(locals, url);
  const m = await loadOr(() => coordinator(token).dashboard.member.query({ memberId: params.id }));
  return {
    self: user.role === 'member',
    member: {
      id: m.id,
      name: m.name,
      status: m.status,
      createdAt: m.createdAt,
      approvedAt: m.approvedAt,
      revokedAt: m.revokedAt,
    },
    consent: m.consent,
    consentSource: m.consentSource,
    consentUpdatedAt: m.consentUpdatedAt,
    privacy: m.privacy.map((p) => ({
      modelId: p.modelId,
      spent: p.spent,
      budget: p.budget,
      ownCap: p.ownCap,
    })),
  };
}) satisfies PageServerLoad;
