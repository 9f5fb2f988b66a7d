import { fail } from '@sveltejs/kit';
import type { Outcome } from '$lib/server/calls';
import { actionOr, loadOr } from '$lib/server/calls';
import { coordinator } from '$lib/server/coordinator';
import { requireMember } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

/** The member's own consent, with what it can name (the cooperative's models and KPIs). */
export const load = (async ({ locals, url }) => {
  const { user, token } = requireMember(locals, url);
  const c = coordinator(token);
  const [me, options] = await Promise.all([
    loadOr(() => c.dashboard.member.query({ memberId: user.id })),
    loadOr(() => c.dashboard.consentOptions.query()),
  ]);
  return {
    consent: me.consent ?? { kpis: [], epsilonCaps: {} },
    source: me.consentSource,
    models: options.models,
    kpis: options.kpis.map((k) => ({ id: k.id, label: k.label, definition: k.definition })),
  };
}) satisfies PageServerLoad;

/** A text field of a form ('' when absent or a file). */
const text = (form: FormData, name: string) => {
  const v = form.get(name);
  return typeof v === 'string' ? v : '';
};

/**
 * Reads the consent form. Field names: `scope` (all | chosen), `models` (repeated), `kpis`
 * (repeated), `cap.<modelId>` (empty: no own cap), `periodDays` (empty: lifetime caps).
 */
function readConsent(
  form: FormData,
  known: { id: string; epsilonBudget: number }[],
): Outcome<{
  models?: string[];
  kpis: string[];
  epsilonCaps: Record<string, number>;
  epsilonPeriodDays?: number;
}> {
  const no = (field: string, message: string) => ({
    ok: false as const,
    failure: fail(400, { field, message }),
  });
  const models = form.getAll('models').map(String);
  const unknown = models.find((m) => !known.some((k) => k.id === m));
  if (unknown) return no('models', `no model "${unknown}"`);
  const scope = form.get('scope');
  if (scope !== 'all' && scope !== 'chosen')
    return no('scope', 'choose all models or the ones ticked');
  const epsilonCaps: Record<string, number> = {};
  for (const k of known) {
    const raw = text(form, `cap.${k.id}`).trim();
    if (raw === '') continue;
    const v = Number(raw);
    if (!Number.isFinite(v) || v <= 0) return no(`cap.${k.id}`, 'a cap must be a number above 0');
    if (v > k.epsilonBudget)
      return no(
        `cap.${k.id}`,
        `at most the cooperative budget (${k.epsilonBudget}); leave empty for that`,
      );
    epsilonCaps[k.id] = v;
  }
  const periodRaw = text(form, 'periodDays').trim();
  const period = periodRaw === '' ? undefined : Number(periodRaw);
  if (period !== undefined && !(Number.isInteger(period) && period >= 1 && period <= 36_500))
    return no('periodDays', 'whole days from 1 to 36500, or empty');
  return {
    ok: true,
    value: {
      ...(scope === 'chosen' ? { models } : {}),
      kpis: form.getAll('kpis').map(String),
      epsilonCaps,
      ...(period !== undefined ? { epsilonPeriodDays: period } : {}),
    },
  };
}

export const actions = {
  /**
   * Saves consent through the coordinator: its next round's cohort respects it at once, and the
   * shop's node adopts it as its own (authoritative) setting on its next poll.
   */
  default: async ({ locals, request }) => {
    const { token } = requireMember(locals);
    const c = coordinator(token);
    const options = await actionOr(() => c.dashboard.consentOptions.query(), 'form');
    if (!options.ok) return options.failure;
    const read = readConsent(await request.formData(), options.value.models);
    if (!read.ok) return read.failure;
    const consent = read.value;
    const kpi = consent.kpis.find((k) => !options.value.kpis.some((o) => o.id === k));
    if (kpi) return fail(400, { field: 'kpis', message: `no KPI "${kpi}"` });
    const saved = await actionOr(() => c.dashboard.setConsent.mutate(consent), 'form');
    if (!saved.ok) return saved.failure;
    return { saved: true };
  },
} satisfies Actions;
