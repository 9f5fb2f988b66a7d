import { beforeAll, describe, expect, it } from 'vitest';
import { cryptoReady } from '../crypto/sodium';
import { seededRandom } from '../crypto/random';
import type { ClientState } from './client';
import { clientNext, createClient } from './client';
import { generateCohort } from './cohort';
import { decodeClientBody, sealClientMessage } from './messages';
import { quantizationBound } from './quantize';
import type { Outgoing, ServerState } from './server';
import { createServer, serverNext } from './server';
import { plaintextGap, randomInputs } from './testkit';

beforeAll(cryptoReady);

const N = 6;
const DIM = 8;

function cohort() {
  const { config, identities } = generateCohort({ clients: N, dim: DIM, clipRange: 1 });
  const inputs = randomInputs(seededRandom(9), N, DIM);
  const decline = (from: number, reason = 'consent') =>
    sealClientMessage(
      { stage: 'decline', roundId: config.roundId, from, reason },
      identities[from]!.privateKey,
      config.digest,
    );
  return { config, identities, inputs, decline };
}

/** Runs the protocol to the end with `declining` sending declines instead of adverts. */
function roundWith(declining: ReadonlySet<number>) {
  const c = cohort();
  let server: ServerState = createServer(c.config);
  const clients = new Map<number, ClientState>();
  const deliver = (bytes: Uint8Array): Outgoing[] => {
    const step = serverNext(server, { type: 'message', bytes });
    server = step.state;
    if (!step.ok && step.state.stage !== 'failed') throw step.error;
    return step.ok ? step.out : [];
  };
  const client = (i: number, bytes?: Uint8Array): Uint8Array => {
    const step = clientNext(
      clients.get(i)!,
      bytes ? { type: 'message', bytes } : { type: 'start' },
    );
    if (!step.ok) throw step.error;
    clients.set(i, step.state);
    return step.out[0]!;
  };
  let out: Outgoing[] = [];
  for (let i = 0; i < N; i++) {
    if (declining.has(i)) out = deliver(c.decline(i));
    else {
      clients.set(
        i,
        createClient({
          config: c.config,
          index: i,
          identity: c.identities[i]!,
          input: c.inputs[i]!,
        }),
      );
      out = deliver(client(i));
    }
  }
  // Every later stage: each addressed client answers, no deadline needed.
  while (out.length > 0) {
    const next: Outgoing[] = [];
    for (const o of out) next.push(...deliver(client(o.to, o.bytes)));
    out = next;
  }
  return { ...c, server };
}

describe('a client may decline a round before advertising', () => {
  it('the advertise stage closes once the others advertised; the sum is theirs', () => {
    const r = roundWith(new Set([1, 4]));
    expect(r.server.stage).toBe('done');
    if (r.server.stage !== 'done') return;
    expect(r.server.result.survivors).toEqual([0, 2, 3, 5]);
    const gap = plaintextGap(r.server.result, r.inputs);
    expect(gap.sum).toBeLessThanOrEqual(quantizationBound(r.config.quant, 4));
    expect(gap.weight).toBeLessThan(1e-6);
  });

  it('too many declines fail the round cleanly, naming the shortfall', () => {
    const r = roundWith(new Set([0, 1, 2, 3]));
    expect(r.server.stage).toBe('failed');
    if (r.server.stage === 'failed') expect(r.server.error.code).toBe('TooFewClients');
  });

  it('a decline round-trips through the codec with its reason', () => {
    const c = cohort();
    const bytes = c.decline(2, 'budget');
    const msg = decodeClientBody(bytes.subarray(0, bytes.length - 64));
    expect(msg).toEqual({ stage: 'decline', roundId: c.config.roundId, from: 2, reason: 'budget' });
  });

  it('refused: twice, after advertising, after the stage, a forged one, a free-text reason', () => {
    const c = cohort();
    let server: ServerState = createServer(c.config);
    const send = (bytes: Uint8Array) => {
      const step = serverNext(server, { type: 'message', bytes });
      server = step.state;
      return step;
    };
    expect(send(c.decline(0)).ok).toBe(true);
    expect(send(c.decline(0))).toMatchObject({ ok: false, error: { code: 'Replay' } });
    const a1 = createClient({
      config: c.config,
      index: 1,
      identity: c.identities[1]!,
      input: c.inputs[1]!,
    });
    const advert = clientNext(a1, { type: 'start' });
    if (!advert.ok) throw advert.error;
    expect(send(advert.out[0]!).ok).toBe(true);
    expect(send(c.decline(1))).toMatchObject({ ok: false, error: { code: 'Replay' } });
    const forged = c.decline(2).slice();
    forged[forged.length - 1]! ^= 1;
    expect(send(forged)).toMatchObject({ ok: false, error: { code: 'BadSignature' } });
    expect(send(c.decline(3, 'Not enough data for shop X'))).toMatchObject({
      ok: false,
      error: { code: 'MalformedMessage' },
    });
    // Clients 2–4 advertise, the deadline closes the stage without 5: its decline is too late.
    for (const k of [2, 3, 4]) {
      const a = clientNext(
        createClient({
          config: c.config,
          index: k,
          identity: c.identities[k]!,
          input: c.inputs[k]!,
        }),
        { type: 'start' },
      );
      if (!a.ok) throw a.error;
      expect(send(a.out[0]!).ok).toBe(true);
    }
    server = serverNext(server, { type: 'deadline', stage: 'advertise' }).state;
    expect(server.stage).toBe('shares');
    expect(send(c.decline(5))).toMatchObject({ ok: false, error: { code: 'WrongStage' } });
  });
});
