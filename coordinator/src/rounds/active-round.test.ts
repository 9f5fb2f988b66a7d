import { beforeAll, describe, expect, it } from 'vitest';
import { cryptoReady, seededRandom } from '@coopfl/protocol';
import type { ClientState } from '@coopfl/protocol/secagg';
import {
  clientNext,
  createClient,
  generateCohort,
  quantizationBound,
} from '@coopfl/protocol/secagg';
import { plaintextGap, randomInputs } from '@coopfl/protocol/secagg/testkit';
import type { InboxKind, RoundEvent } from './active-round';
import { ActiveRound } from './active-round';

beforeAll(cryptoReady);

const KINDS: InboxKind[] = ['keys', 'ciphertexts', 'unmaskRequest'];

function setup(n: number) {
  const cohort = generateCohort({ clients: n, dim: 32, clipRange: 1 });
  const inputs = randomInputs(seededRandom(7), n, 32);
  const events: RoundEvent[] = [];
  const log = { append: (e: RoundEvent) => Promise.resolve(void events.push(e)) };
  const clients: ClientState[] = inputs.map((input, index) =>
    createClient({ config: cohort.config, index, identity: cohort.identities[index]!, input }),
  );
  return { ...cohort, inputs, events, log, clients };
}

/** Each client takes its next step: start, or the server message of the stage it waits for. */
function clientMessages(
  round: ActiveRound,
  clients: ClientState[],
  stage: number,
  skip: Set<number>,
) {
  const out: [number, Uint8Array][] = [];
  clients.forEach((c, i) => {
    if (skip.has(i)) return;
    const msg = stage === 0 ? undefined : round.inbox(i, KINDS[stage - 1]!);
    if (stage > 0 && !msg) return;
    const step = clientNext(c, msg ? { type: 'message', bytes: msg } : { type: 'start' });
    if (!step.ok) throw step.error;
    clients[i] = step.state;
    out.push([i, step.out[0]!]);
  });
  return out;
}

describe('ActiveRound', () => {
  it('completes a round and logs exactly the accepted messages', async () => {
    const s = setup(6);
    let round = ActiveRound.restore(s.config, s.log);
    for (let stage = 0; stage < 4; stage++) {
      for (const [i, bytes] of clientMessages(round, s.clients, stage, new Set()))
        await round.submit(i, bytes);
    }
    expect(round.stage).toBe('done');
    const outcome = round.outcome!;
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(plaintextGap(outcome.result, s.inputs).sum).toBeLessThanOrEqual(
      quantizationBound(s.config.quant, 6),
    );
    expect(s.events).toHaveLength(24);
    // A rejected message (a replay) is not logged and changes nothing.
    round = ActiveRound.restore(s.config, s.log, s.events.slice(0, 3));
    await expect(round.submit(0, s.events[0]!.payload!)).rejects.toMatchObject({ code: 'Replay' });
    expect(s.events).toHaveLength(24);
  });

  it('after a crash at any point, replaying the log resumes the round with the same sum', async () => {
    const reference = setup(5);
    // Run once to learn the full, ordered log; a dropout makes the deadline path part of it.
    const round = ActiveRound.restore(reference.config, reference.log);
    const skip = new Set([4]);
    for (let stage = 0; stage < 4; stage++) {
      for (const [i, bytes] of clientMessages(
        round,
        reference.clients,
        stage,
        stage >= 2 ? skip : new Set(),
      )) {
        await round.submit(i, bytes);
      }
      if (stage === 2) await round.deadline('masked');
    }
    const full = round.outcome!;
    expect(full.ok).toBe(true);
    if (!full.ok) return;
    expect(full.result.dropped).toEqual([4]);
    const events = reference.events.slice();
    for (let cut = 0; cut <= events.length; cut++) {
      const replayed: RoundEvent[] = [];
      const restarted = ActiveRound.restore(
        reference.config,
        { append: (e) => Promise.resolve(void replayed.push(e)) },
        events.slice(0, cut),
      );
      // The rest of the log arrives after the restart, as the clients retry.
      for (const e of events.slice(cut)) {
        if (e.kind === 'deadline') await restarted.deadline(e.stage);
        else await restarted.submit(e.clientIndex!, e.payload!);
      }
      const outcome = restarted.outcome!;
      expect(outcome.ok).toBe(true);
      if (outcome.ok) expect(Array.from(outcome.result.sum)).toEqual(Array.from(full.result.sum));
      expect(replayed.map((e) => e.seq)).toEqual(events.slice(cut).map((e) => e.seq));
    }
  });
});
