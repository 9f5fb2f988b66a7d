import { redirect } from '@sveltejs/kit';
import { z } from 'zod';
import { actionOr, loadOr, parseForm } from '$lib/server/calls';
import { coordinator } from '$lib/server/coordinator';
import { requireAdmin, requireUser } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

/** Rounds, newest first (a member sees only the rounds it took part in). */
export const load = (async ({ locals, url }) => {
  const { user, token } = requireUser(locals, url);
  const c = coordinator(token);
  const [rounds, models] = await Promise.all([
    loadOr(() => c.rounds.list.query({ limit: 200 })),
    loadOr(() => c.models.list.query()),
  ]);
  return {
    role: user.role,
    rounds: rounds.map((r) => ({
      id: r.id,
      modelId: r.modelId,
      kind: r.kind,
      status: r.status,
      resultVersion: r.resultVersion,
      createdAt: r.createdAt,
      finishedAt: r.finishedAt,
    })),
    models: models.map((m) => ({ id: m.id, kind: m.kind })),
  };
}) satisfies PageServerLoad;

const StartForm = z.object({
  modelId: z.string({ error: 'choose a model' }).trim().min(1, 'choose a model').max(200),
  kind: z.enum(['train', 'eval'], { error: 'choose train or eval' }),
});

export const actions = {
  /** Starts a training or evaluation round now and opens its live page. */
  start: async ({ locals, request }) => {
    const { token } = requireAdmin(locals);
    const form = await parseForm(request, StartForm);
    if (!form.ok) return form.failure;
    // An evaluation asks for the model kind's metrics and baselines (the coordinator's default).
    const r = await actionOr(() => coordinator(token).rounds.start.mutate(form.data), 'modelId');
    if (!r.ok) return r.failure;
    redirect(303, `/rounds/${encodeURIComponent(r.value.roundId)}`);
  },
} satisfies Actions;
