import { loadOr } from '$lib/server/calls';
import { coordinator } from '$lib/server/coordinator';
import { requireUser } from '$lib/server/session';
import type { PageServerLoad } from './$types';

/**
 * ε spent per model against the budget, and the ledger. A member gets its own rows only (the
 * coordinator filters); staff may narrow the ledger to one member with `?member=`.
 */
export const load = (async ({ locals, url }) => {
  const { user, token } = requireUser(locals, url);
  const c = coordinator(token);
  const member = user.role === 'member' ? user.id : (url.searchParams.get('member') ?? undefined);
  const [summary, ledger] = await Promise.all([
    loadOr(() => c.dashboard.privacy.query(member ? { memberId: member } : {})),
    loadOr(() => c.privacy.ledger.query(member ? { memberId: member } : {})),
  ]);
  return {
    role: user.role,
    member: member ?? null,
    summary: summary.map((s) => ({
      modelId: s.modelId,
      spent: s.spent,
      budget: s.budget,
      ownCap: s.ownCap,
      dpMode: s.dpMode,
      delta: s.delta,
    })),
    ledger: ledger.slice(0, 500).map((r) => ({
      at: r.createdAt,
      modelId: r.modelId,
      memberId: r.memberId,
      roundId: r.roundId,
      mechanism: r.mechanism,
      noiseMultiplier: r.noiseMultiplier,
      samplingRate: r.samplingRate,
      epsilon: r.epsilon,
      delta: r.delta,
      unit: r.unit,
    })),
  };
}) satisfies PageServerLoad;
