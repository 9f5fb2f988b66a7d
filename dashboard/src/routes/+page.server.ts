import { loadOr } from '$lib/server/calls';
import { coordinator } from '$lib/server/coordinator';
import { requireUser } from '$lib/server/session';
import type { PageServerLoad } from './$types';

/** Overview: membership counts, rounds in progress, latest quality, privacy spent. */
export const load = (async ({ locals, url }) => {
  const { user, token } = requireUser(locals, url);
  const o = await loadOr(() => coordinator(token).dashboard.overview.query());
  return {
    role: user.role,
    members: o.members,
    activeRounds: o.activeRounds,
    models: o.models.map((m) => ({
      id: m.id,
      kind: m.kind,
      latestVersion: m.latestVersion,
      evaluatedVersion: m.evaluatedVersion,
      quality: m.quality,
    })),
    privacy: o.privacy.map((p) => ({
      modelId: p.modelId,
      spent: p.spent,
      budget: p.budget,
      ownCap: p.ownCap,
      dpMode: p.dpMode,
    })),
  };
}) satisfies PageServerLoad;
