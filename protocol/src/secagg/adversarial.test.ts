import { beforeAll, describe, expect, it } from 'vitest';
import { cryptoReady } from '../crypto/sodium';
import { identityKeyPair } from '../crypto/primitives';
import { seededRandom } from '../crypto/random';
import { runRound } from './channel';
import type { ClientState } from './client';
import { clientNext, createClient } from './client';
import { generateCohort } from './cohort';
import { decodeServerMessage, encodeServerMessage, sealClientMessage } from './messages';
import { quantizationBound } from './quantize';
import type { Outgoing, ServerState } from './server';
import { createServer, serverNext } from './server';
import { plaintextGap, randomInputs } from './testkit';

beforeAll(cryptoReady);

const N = 5;
const DIM = 16;

/** A round driven by hand, so a test can intercept, replay or forge messages between stages. */
function manualRound() {
  const { config, identities } = generateCohort({ clients: N, dim: DIM, clipRange: 1 });
  const inputs = randomInputs(seededRandom(5), N, DIM);
  const clients: ClientState[] = inputs.map((input, index) =>
    createClient({ config, index, identity: identities[index]!, input }),
  );
  let server: ServerState = createServer(config);
  /** Steps client i with an event; returns its outgoing bytes. */
  const client = (i: number, bytes?: Uint8Array): Uint8Array => {
    const step = clientNext(clients[i]!, bytes ? { type: 'message', bytes } : { type: 'start' });
    if (!step.ok) throw step.error;
    clients[i] = step.state;
    return step.out[0]!;
  };
  /** Delivers to the server; returns rejected error or the outgoing messages. */
  const deliver = (bytes: Uint8Array) => {
    const step = serverNext(server, { type: 'message', bytes });
    server = step.state;
    return step;
  };
  const deliverAll = (msgs: Uint8Array[]): Outgoing[] => {
    const out: Outgoing[] = [];
    for (const m of msgs) {
      const step = deliver(m);
      if (!step.ok) throw step.error;
      out.push(...step.out);
    }
    return out;
  };
  const all = Array.from({ length: N }, (_, i) => i);
  return {
    config,
    identities,
    inputs,
    clients,
    client,
    deliver,
    deliverAll,
    all,
    server: () => server,
  };
}

describe('the server rejects bad messages with named errors and keeps its state', () => {
  it('forged signature, replay, wrong stage, wrong round, unknown client, malformed bytes', () => {
    const r = manualRound();
    const adverts = r.all.map((i) => r.client(i));
    const forged = adverts[0]!.slice();
    forged[forged.length - 1]! ^= 1;
    expect(r.deliver(forged)).toMatchObject({ ok: false, error: { code: 'BadSignature' } });
    // Signed with a key other than the registered identity.
    const impostor = sealClientMessage(
      {
        stage: 'advertise',
        roundId: r.config.roundId,
        from: 1,
        encPk: new Uint8Array(32),
        maskPk: new Uint8Array(32),
        seedCommit: new Uint8Array(32),
      },
      identityKeyPair().privateKey,
      r.config.digest,
    );
    expect(r.deliver(impostor)).toMatchObject({ ok: false, error: { code: 'BadSignature' } });
    expect(r.deliver(adverts[0]!)).toMatchObject({ ok: true });
    expect(r.deliver(adverts[0]!)).toMatchObject({ ok: false, error: { code: 'Replay' } });
    const early = sealClientMessage(
      { stage: 'masked', roundId: r.config.roundId, from: 2, masked: new Uint32Array(DIM + 1) },
      r.identities[2]!.privateKey,
      r.config.digest,
    );
    expect(r.deliver(early)).toMatchObject({ ok: false, error: { code: 'WrongStage' } });
    const other = sealClientMessage(
      {
        stage: 'advertise',
        roundId: 'another-round',
        from: 2,
        encPk: new Uint8Array(32),
        maskPk: new Uint8Array(32),
        seedCommit: new Uint8Array(32),
      },
      r.identities[2]!.privateKey,
      r.config.digest,
    );
    expect(r.deliver(other)).toMatchObject({ ok: false, error: { code: 'WrongRound' } });
    const stranger = sealClientMessage(
      {
        stage: 'advertise',
        roundId: r.config.roundId,
        from: 99,
        encPk: new Uint8Array(32),
        maskPk: new Uint8Array(32),
        seedCommit: new Uint8Array(32),
      },
      identityKeyPair().privateKey,
      r.config.digest,
    );
    expect(r.deliver(stranger)).toMatchObject({ ok: false, error: { code: 'UnknownClient' } });
    expect(r.deliver(Uint8Array.of(1, 2, 3))).toMatchObject({
      ok: false,
      error: { code: 'MalformedMessage' },
    });
    expect(r.deliver(adverts[1]!.subarray(0, 70))).toMatchObject({
      ok: false,
      error: { code: 'MalformedMessage' },
    });

    // Nothing above changed the round: it completes with the right sum.
    const keys = r.deliverAll(adverts.slice(1));
    const shares = r.deliverAll(keys.map((o) => r.client(o.to, o.bytes)));
    const masked = r.deliverAll(shares.map((o) => r.client(o.to, o.bytes)));
    r.deliverAll(masked.map((o) => r.client(o.to, o.bytes)));
    const final = r.server();
    expect(final.stage).toBe('done');
    if (final.stage !== 'done') return;
    expect(plaintextGap(final.result, r.inputs).sum).toBeLessThanOrEqual(
      quantizationBound(r.config.quant, N),
    );
  });

  it('a masked input of the wrong length', () => {
    const r = manualRound();
    const keys = r.deliverAll(r.all.map((i) => r.client(i)));
    r.deliverAll(keys.map((o) => r.client(o.to, o.bytes)));
    const short = sealClientMessage(
      { stage: 'masked', roundId: r.config.roundId, from: 3, masked: new Uint32Array(DIM) },
      r.identities[3]!.privateKey,
      r.config.digest,
    );
    const step = r.deliver(short);
    expect(step).toMatchObject({ ok: false, error: { code: 'WrongLength' } });
    if (!step.ok) expect(step.error.message).toMatch(/client 3 has 16 words, expected 17/);
  });
});

describe('clients reject bad inputs and a misbehaving server', () => {
  it('NaN and Infinity inputs are refused before any key is made', () => {
    const { config, identities } = generateCohort({ clients: 3, dim: 4, clipRange: 1 });
    for (const bad of [NaN, Infinity, -Infinity]) {
      expect(() =>
        createClient({
          config,
          index: 0,
          identity: identities[0]!,
          input: { vector: [0, bad, 0, 0] },
        }),
      ).toThrow(/InvalidInput: input\[1\] is/);
    }
    expect(() =>
      createClient({ config, index: 0, identity: identities[0]!, input: { vector: [0, 0] } }),
    ).toThrow(/WrongLength: input has 2 entries, the round expects 4/);
  });

  it('a substituted advertisement fails the peer signature check', () => {
    const r = manualRound();
    const keys = r.deliverAll(r.all.map((i) => r.client(i)));
    const msg = decodeServerMessage(keys[0]!.bytes);
    if (msg.stage !== 'keys') throw new Error('expected keys');
    const advert = msg.adverts[1]!.slice();
    advert[30]! ^= 1; // inside encPk (after the 21-byte header of round "round-1")
    const tampered = encodeServerMessage({
      ...msg,
      adverts: [msg.adverts[0]!, advert, ...msg.adverts.slice(2)],
    });
    const step = clientNext(r.clients[keys[0]!.to]!, { type: 'message', bytes: tampered });
    expect(step).toMatchObject({ ok: false, error: { code: 'BadSignature' } });
  });

  it('a tampered share ciphertext is refused, naming the sender', () => {
    const r = manualRound();
    const keys = r.deliverAll(r.all.map((i) => r.client(i)));
    const cts = r.deliverAll(keys.map((o) => r.client(o.to, o.bytes)));
    const target = cts[0]!;
    const msg = decodeServerMessage(target.bytes);
    if (msg.stage !== 'ciphertexts') throw new Error('expected ciphertexts');
    const sealed = msg.items[0]!.sealed.slice();
    sealed[30]! ^= 1;
    const tampered = encodeServerMessage({
      ...msg,
      items: [{ from: msg.items[0]!.from, sealed }, ...msg.items.slice(1)],
    });
    const step = clientNext(r.clients[target.to]!, { type: 'message', bytes: tampered });
    expect(step).toMatchObject({ ok: false, error: { code: 'DecryptFailed' } });
    if (!step.ok) expect(step.error.message).toContain(`client ${msg.items[0]!.from}`);
    // A replayed stage message is out of order for the client.
    const again = clientNext(r.clients[keys[0]!.to]!, { type: 'message', bytes: keys[0]!.bytes });
    expect(again).toMatchObject({ ok: false, error: { code: 'WrongStage' } });
  });

  it('an honest client never reveals both shares of one peer', () => {
    const { config, identities } = generateCohort({ clients: 6, dim: 8, clipRange: 1 });
    const inputs = randomInputs(seededRandom(2), 6, 8);
    const report = runRound({ config, identities, inputs });
    expect(report.error).toBeUndefined();
    const done = report.clients[0]!;
    const ask = (survivors: number[]) =>
      clientNext(done, {
        type: 'message',
        bytes: encodeServerMessage({ stage: 'unmaskRequest', roundId: config.roundId, survivors }),
      });
    // The same request again (a lost response) gets the same reply.
    const same = ask([0, 1, 2, 3, 4, 5]);
    expect(
      same.ok &&
        Buffer.from(same.out[0]!).equals(
          Buffer.from(report.clients[0]!.stage === 'done' ? report.clients[0]!.reply : []),
        ),
    ).toBe(true);
    // Claiming client 2 dropped asks for its mask-key share after its seed share was revealed.
    const both = ask([0, 1, 3, 4, 5]);
    expect(both).toMatchObject({ ok: false, error: { code: 'BothSharesRequested' } });
    if (!both.ok)
      expect(both.error.message).toMatch(/key share of client 2 after receiving its seed share/);
    // Listing this client itself as dropped contradicts what it knows.
    expect(ask([1, 2, 3, 4, 5])).toMatchObject({ ok: false, error: { code: 'InconsistentView' } });
  });
});
