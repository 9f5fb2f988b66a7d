import { seededRandom } from '@coopfl/protocol';
import type { ModelKind } from '@coopfl/protocol/models';
import type { AdminClient } from '@coopfl/coordinator/client';
import type { SimCooperative } from './cooperative';
import { retryUnanswered } from './cooperative';
import { deriveSeed, sampleIndices } from './random';

/** What one federated round did, as the simulator saw it. */
export interface RoundOutcome {
  readonly round: number;
  readonly status: string;
  readonly resultVersion: number | null;
  readonly error: string | null;
  readonly dropped: readonly string[];
  /** Store ids of the online shops that started late this round (straggler injection). */
  readonly stragglers: readonly string[];
  readonly survivors: number | null;
  readonly refusals: number;
  readonly errors: number;
  /** Updates clipped to the clip norm this round (a hint that C limits progress). */
  readonly clipped: number;
  readonly seconds: number;
}

/**
 * Runs one training round of `modelId` through the real coordinator and nodes: the admin starts
 * the round, then every node that is not dropped this round runs its client loop once (poll, take
 * part — consent, budget, train, clip, secure aggregation over HTTP — and wait for the release).
 * Dropped nodes do not poll at all, as a shop that is offline; the coordinator's stage deadline
 * then closes the advertise stage with the survivors. Stragglers poll `stragglers.delayMs` late. Each node's random source is re-seeded from
 * (seed, node, model, round) first, so a round's draws never depend on earlier rounds' timing.
 *
 * @example
 * const r = await runRound(coop, { modelId: 'fraud', kind: 'fraud', round: 1, seed: 1, dropout: 0.3 });
 */
export async function runRound(
  coop: SimCooperative,
  o: {
    modelId: string;
    kind: ModelKind;
    round: number;
    seed: number;
    dropout: number;
    stragglers?: { fraction: number; delayMs: number };
  },
): Promise<RoundOutcome> {
  const started = performance.now();
  const n = coop.members.length;
  const drop = new Set(
    sampleIndices(
      seededRandom(deriveSeed(o.seed, 'dropout', o.kind, o.round)),
      n,
      Math.round(o.dropout * n),
    ),
  );
  const dropped = coop.members.filter((x) => drop.has(x.index)).map((x) => x.storeId);
  const online = coop.members.filter((x) => !drop.has(x.index));
  const late = new Set(
    sampleIndices(
      seededRandom(deriveSeed(o.seed, 'straggler', o.kind, o.round)),
      online.length,
      Math.min(online.length, Math.round((o.stragglers?.fraction ?? 0) * n)),
    ).map((i) => online[i]!.index),
  );
  const stragglers = online.filter((x) => late.has(x.index)).map((x) => x.storeId);
  const base = {
    round: o.round,
    dropped,
    stragglers,
    seconds: 0,
  };
  let roundId: string;
  try {
    ({ roundId } = await retryUnanswered(() =>
      coop.admin.rounds.start.mutate({ modelId: o.modelId }),
    ));
  } catch (err) {
    // E.g. every member's privacy budget is spent: the coordinator refuses to start the round.
    return {
      ...base,
      status: 'not-started',
      resultVersion: null,
      error: err instanceof Error ? err.message.split('\n')[0]! : String(err),
      survivors: null,
      refusals: 0,
      errors: 0,
      clipped: 0,
      seconds: (performance.now() - started) / 1000,
    };
  }
  // Each node is re-seeded from (seed, node, kind, round) by its host before it runs.
  const counts = await coop.fleet.runRound({
    roundId,
    kind: o.kind,
    round: o.round,
    online: online.map((x) => x.index),
    late: [...late],
    delayMs: o.stragglers?.delayMs ?? 0,
  });
  const r = await waitForRound(coop.admin, roundId);
  const model = (await retryUnanswered(() => coop.admin.models.list.query())).find(
    (m) => m.id === o.modelId,
  );
  const survivors =
    r.status === 'done'
      ? ((model?.metrics as { round?: { survivors?: number } } | null)?.round?.survivors ?? null)
      : null;
  return {
    ...base,
    status: r.status,
    resultVersion: r.resultVersion,
    error: r.error,
    survivors,
    ...counts,
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * Polls the coordinator as the admin until the round is released (done or failed), or reports it
 * failed after `timeoutMs`.
 *
 * @example
 * const { status, resultVersion } = await waitForRound(coop.admin, roundId);
 */
export async function waitForRound(admin: AdminClient, roundId: string, timeoutMs = 15 * 60_000) {
  const start = Date.now();
  for (;;) {
    const r = await retryUnanswered(() => admin.rounds.get.query({ roundId }));
    if (r.status === 'done' || r.status === 'failed') return r;
    if (Date.now() - start > timeoutMs) {
      return { ...r, status: 'failed', error: `still ${r.status} after ${timeoutMs} ms` };
    }
    await new Promise((res) => setTimeout(res, 100));
  }
}
