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
  const log = { append: (es: RoundEvent[]) => Promise.resolve(void events.push(...es)) };
  const clients: ClientState[] = inputs.map((input, index) =>
    createClient({ config: cohort.config, index, identity: cohort.identities[index]!, input }),
  );
  return { ...cohort, inputs, events, log, clients };
}

/** Each client takes its next step: start, or the server message of the stage it waits for. */
function clientMessages(
  round: Pick<ActiveRound, 'inbox'>,
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
    // 4 stages × 6 messages, plus the masked stage's checkpoint; masked inputs are receipts only.
    expect(s.events).toHaveLength(25);
    const masked = s.events.filter((e) => e.stage === 'masked');
    expect(masked.map((e) => e.kind)).toEqual([...Array<string>(6).fill('message'), 'checkpoint']);
    expect(masked.slice(0, 6).every((e) => e.payload === null)).toBe(true);
    expect(masked[6]!.payload!.length).toBe(4 * (1 + 6 + s.config.dim + 1));
    // A rejected message (a replay) is not logged and changes nothing.
    round = ActiveRound.restore(s.config, s.log, s.events.slice(0, 3));
    await expect(round.submit(0, s.events[0]!.payload!)).rejects.toMatchObject({ code: 'Replay' });
    expect(s.events).toHaveLength(25);
  });

  it('group commit: concurrent messages share a write, in order, visible only once durable', async () => {
    const s = setup(6);
    const writes: number[] = [];
    const log = {
      append: (es: RoundEvent[]) => {
        writes.push(es.length);
        s.events.push(...es);
        return Promise.resolve();
      },
    };
    const round = ActiveRound.restore(s.config, log);
    const adverts = clientMessages(round, s.clients, 0, new Set());
    await Promise.all(adverts.map(([i, bytes]) => round.submit(i, bytes)));
    expect(writes.reduce((a, b) => a + b, 0)).toBe(6);
    expect(writes.length).toBeLessThan(6); // the first write alone, the rest grouped
    expect(s.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(round.stage).toBe('shares');

    // A failed write: every message of its group is refused and nothing becomes visible.
    const t = setup(4);
    let fail = true;
    const flaky = {
      append: (es: RoundEvent[]) => {
        if (fail) return Promise.reject(new Error('disk full'));
        t.events.push(...es);
        return Promise.resolve();
      },
    };
    const r = ActiveRound.restore(t.config, flaky);
    const msgs = clientMessages(r, t.clients, 0, new Set());
    const results = await Promise.allSettled(msgs.map(([i, bytes]) => r.submit(i, bytes)));
    expect(results.every((x) => x.status === 'rejected')).toBe(true);
    expect(r.stage).toBe('advertise');
    expect(r.inbox(0, 'keys')).toBeUndefined();
    fail = false;
  });

  it('a refused claim stores and applies nothing: the claimed messages are refused, the rest go on', async () => {
    const s = setup(5);
    const refusal = new Error('nonce taken');
    const claimsWritten: string[] = [];
    let gate: Promise<void> | undefined;
    const log = {
      append: async (es: RoundEvent[], claims: string[]) => {
        await gate;
        if (claims.includes('taken')) throw refusal;
        s.events.push(...es);
        claimsWritten.push(...claims);
      },
      refusesClaim: (err: unknown) => err === refusal,
    };
    const round = ActiveRound.restore<string>(s.config, log);
    for (let stage = 0; stage < 4; stage++) {
      const [bad, good, plain, first, last] = clientMessages(round, s.clients, stage, new Set());
      const before = s.events.length;
      // While the first message's write is in flight, three arrive and form the next group: one
      // under a nonce already taken, one under a fresh nonce, one without a claim.
      let release!: () => void;
      gate = new Promise((r) => (release = r));
      const firstDone = round.submit(first![0], first![1]);
      const group = Promise.allSettled([
        round.submit(bad![0], bad![1], 'taken'),
        round.submit(good![0], good![1], `fresh-${stage}`),
        round.submit(plain![0], plain![1]),
      ]);
      gate = undefined;
      release();
      await firstDone;
      // The group's write fails as a whole; the unclaimed message is applied in the next one.
      expect((await group).map((r) => r.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
      expect(s.events.length).toBe(before + 2);
      // Nothing of the refused messages counted: each is accepted when sent again (as the
      // coordinator does once it has claimed its nonce on its own, or refused the request).
      await round.submit(good![0], good![1], `again-${stage}`);
      await round.submit(bad![0], bad![1]);
      await round.submit(last![0], last![1]);
    }
    const outcome = round.outcome!;
    if (!outcome.ok) throw outcome.error;
    // The masked stage's sum holds every input exactly once.
    expect(outcome.result.survivors).toEqual([0, 1, 2, 3, 4]);
    expect(plaintextGap(outcome.result, s.inputs).sum).toBeLessThanOrEqual(
      quantizationBound(s.config.quant, 5),
    );
    expect(claimsWritten).toEqual(['again-0', 'again-1', 'again-2', 'again-3']);
  });

  it('after a crash outside the masked stage, replaying the log resumes with the same sum', async () => {
    const reference = setup(5);
    // Run once to learn the full, ordered log; a dropout makes the deadline path part of it.
    const round = ActiveRound.restore(reference.config, reference.log);
    const skip = new Set([4]);
    const maskedInputs = new Map<number, Uint8Array>();
    for (let stage = 0; stage < 4; stage++) {
      for (const [i, bytes] of clientMessages(
        round,
        reference.clients,
        stage,
        stage >= 2 ? skip : new Set(),
      )) {
        if (stage === 2) maskedInputs.set(i, bytes);
        await round.submit(i, bytes);
      }
      if (stage === 2) await round.deadline('masked');
    }
    const full = round.outcome!;
    expect(full.ok).toBe(true);
    if (!full.ok) return;
    expect(full.result.dropped).toEqual([4]);
    const events = reference.events.slice();
    const firstMasked = events.findIndex((e) => e.stage === 'masked');
    const checkpointAt = events.findIndex((e) => e.kind === 'checkpoint');
    for (let cut = 0; cut <= events.length; cut++) {
      if (cut > firstMasked && cut <= checkpointAt) continue; // the next test
      const replayed: RoundEvent[] = [];
      const restarted = ActiveRound.restore(
        reference.config,
        { append: (es) => Promise.resolve(void replayed.push(...es)) },
        events.slice(0, cut),
      );
      // The rest of the log arrives after the restart, as the clients retry.
      for (const e of events.slice(cut)) {
        if (e.kind === 'deadline' || e.kind === 'checkpoint') await restarted.deadline(e.stage);
        else await restarted.submit(e.clientIndex!, e.payload ?? maskedInputs.get(e.clientIndex!)!);
      }
      const outcome = restarted.outcome!;
      expect(outcome.ok).toBe(true);
      if (outcome.ok) expect(Array.from(outcome.result.sum)).toEqual(Array.from(full.result.sum));
      expect(replayed.map((e) => e.seq)).toEqual(events.slice(cut).map((e) => e.seq));
    }
  });

  it('a crash while masked inputs arrive loses those inputs; their senders count as dropped', async () => {
    for (const lostCount of [1, 2, 3]) {
      const s = setup(8);
      const round = ActiveRound.restore(s.config, s.log);
      for (let stage = 0; stage < 2; stage++) {
        for (const [i, bytes] of clientMessages(round, s.clients, stage, new Set()))
          await round.submit(i, bytes);
      }
      const masked = clientMessages(round, s.clients, 2, new Set());
      for (const [i, bytes] of masked.slice(0, lostCount)) await round.submit(i, bytes);
      // Crash: a new coordinator process rebuilds the round from the log alone.
      const restarted = ActiveRound.restore(s.config, s.log, s.events.slice());
      expect(restarted.stage).toBe('masked');
      for (const [i, bytes] of masked.slice(lostCount)) await restarted.submit(i, bytes);
      await restarted.deadline('masked');
      for (const [i, bytes] of clientMessages(restarted, s.clients, 3, new Set()))
        await restarted.submit(i, bytes);
      const outcome = restarted.outcome!;
      const survivors = masked.slice(lostCount).map(([i]) => i);
      if (survivors.length < s.config.threshold) {
        expect(outcome.ok).toBe(false);
        continue;
      }
      if (!outcome.ok) throw outcome.error;
      expect(outcome.result.survivors).toEqual(survivors);
      // plaintextGap sums the inputs of the result's survivors only.
      expect(plaintextGap(outcome.result, s.inputs).sum).toBeLessThanOrEqual(
        quantizationBound(s.config.quant, survivors.length),
      );
    }
  });
});
