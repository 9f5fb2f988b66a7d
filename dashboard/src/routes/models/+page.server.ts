import { loadOr } from '$lib/server/calls';
import { coordinator } from '$lib/server/coordinator';
import { requireUser } from '$lib/server/session';
import type { PageServerLoad } from './$types';

/** A model's quality over rounds (cooperative averages), its baselines, versions, best vs latest. */
export const load = (async ({ locals, url }) => {
  const { token } = requireUser(locals, url);
  const c = coordinator(token);
  const models = await loadOr(() => c.models.list.query());
  const selected = url.searchParams.get('model') ?? models[0]?.id ?? null;
  const history = selected
    ? await loadOr(() => c.dashboard.modelHistory.query({ modelId: selected }))
    : null;
  return {
    models: models.map((m) => ({ id: m.id, kind: m.kind, latestVersion: m.latestVersion })),
    selected,
    history: history && {
      metrics: history.metrics,
      points: history.points.map((p) => ({
        version: p.version,
        members: p.members,
        values: p.values,
        at: p.at,
      })),
      baselines: history.baselines,
      best: history.best,
      versions: history.versions,
    },
  };
}) satisfies PageServerLoad;
