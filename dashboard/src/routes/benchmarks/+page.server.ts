import { KPIS } from '@coopfl/protocol/benchmarks';
import { loadOr } from '$lib/server/calls';
import { coordinator } from '$lib/server/coordinator';
import { requireUser } from '$lib/server/session';
import type { PageServerLoad } from './$types';

/** Where a node serves its API unless configured otherwise (`servePort` in the node config). */
const DEFAULT_NODE_URL = 'http://127.0.0.1:8788';

/**
 * The cooperative's published benchmarks (released aggregates only: the coordinator never holds
 * one shop's value). A member's own values are not loaded here: the page reads them in the
 * browser, straight from the member's node, so they never pass through this server.
 */
export const load = (async ({ locals, url }) => {
  const { user, token } = requireUser(locals, url);
  const published = await loadOr(() => coordinator(token).benchmarks.published.query({}));
  return {
    role: user.role,
    memberId: user.role === 'member' ? user.id : null,
    defaultNodeUrl: DEFAULT_NODE_URL,
    kpis: KPIS.map((k) => ({
      id: k.id,
      label: k.label,
      definition: k.definition,
      higherIsBetter: k.higherIsBetter,
      range: k.range,
    })),
    runs: published.map((r) => ({
      roundId: r.roundId,
      period: r.period,
      peerGroup: r.peerGroup,
      at: r.at,
      dp: r.dp,
      contributors: r.contributors,
      kpis: r.kpis.map((k) => ({
        kpi: k.kpi,
        status: k.status,
        reason: k.reason,
        contributors: k.contributors,
        mean: k.mean,
        meanInterval: k.meanInterval,
        quartiles: k.quartiles,
        quartileIntervals: k.quartileIntervals,
        confidence: k.confidence,
        noiseSd: k.noiseSd,
      })),
    })),
  };
}) satisfies PageServerLoad;
