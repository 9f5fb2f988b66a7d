import { loadOr } from '$lib/server/calls';
import { coordinator } from '$lib/server/coordinator';
import { requireUser } from '$lib/server/session';
import type { PageServerLoad } from './$types';

/**
 * One round, live: the page re-runs this load every second while the round runs. A member sees
 * only rounds it took part in, and other participants only as anonymous client indices.
 */
export const load = (async ({ locals, params, url }) => {
  const { token } = requireUser(locals, url);
  const d = await loadOr(() => coordinator(token).dashboard.round.query({ roundId: params.id }));
  return {
    round: {
      id: d.id,
      modelId: d.modelId,
      kind: d.kind,
      status: d.status,
      outcome: d.outcome,
      error: d.error,
      baseVersion: d.baseVersion,
      resultVersion: d.resultVersion,
      createdAt: d.createdAt,
      finishedAt: d.finishedAt,
      durationMs: d.durationMs,
      bytes: d.bytes,
      cohort: d.cohort,
      dropouts: d.dropouts,
      declines: d.declines,
    },
    timeline: d.timeline,
    participants: d.participants,
  };
}) satisfies PageServerLoad;
