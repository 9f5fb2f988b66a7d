import { and, eq, isNull } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyPair, RandomSource } from '@coopfl/protocol';
import {
  cryptoReady,
  identityKeyPair,
  seededRandom,
  sign,
  signRequest,
  systemRandom,
} from '@coopfl/protocol';
import type { ClientState } from '@coopfl/protocol/secagg';
import { clientNext, createClient, sealClientMessage } from '@coopfl/protocol/secagg';
import type { AdminClient } from '../client';
import { NodeClient, secAggConfigOf } from '../client';
import { loadConfig } from '../config';
import { memberKeys, members } from '../db';
import type { RunningCoordinator } from '../server';
import { startCoordinator } from '../server';
import { createInvite, joinProofMessage } from '../services/members';
import type { FleetNode } from '../testing/fleet';
import { bootstrapFleet } from '../testing/fleet';
import { describeTargets, rowCounts } from '../testing/targets';

beforeAll(cryptoReady);

const DIM = 64;
const LIMIT = 64 * 1024;

type Who = { memberId: string; identity: KeyPair };

describeTargets('refused input', (fresh) => {
  let running: RunningCoordinator;
  let admin: AdminClient;
  let nodes: FleetNode[];

  beforeAll(async () => {
    running = await startCoordinator(
      loadConfig(
        { db: await fresh(), port: 0, keyFile: 'memory', logLevel: 'silent', maxBodyBytes: LIMIT },
        {},
      ),
    );
    ({ admin, nodes } = await bootstrapFleet(running, 5));
    await admin.models.create.mutate({
      id: 'm',
      kind: 'test',
      dim: DIM,
      config: { stageTimeoutMs: 30_000 },
    });
  }, 60_000);
  afterAll(() => running?.close());

  /** A request signed as `who`; `tamper` edits the headers after signing. */
  function signed(
    who: Who,
    path: string,
    o: {
      method?: string;
      body?: Uint8Array;
      timestamp?: number;
      tamper?: (h: Record<string, string>) => void;
      type?: string;
      /** Where the nonce comes from: a seeded source repeats one. */
      random?: RandomSource;
    } = {},
  ) {
    const method = o.method ?? 'GET';
    const body = o.body ?? new Uint8Array();
    const headers = signRequest(
      {
        method,
        path,
        memberId: who.memberId,
        body,
        ...(o.timestamp ? { timestamp: o.timestamp } : {}),
      },
      who.identity.privateKey,
      o.random ?? systemRandom(),
    );
    o.tamper?.(headers);
    return () =>
      fetch(running.url + path, {
        method,
        headers: {
          ...headers,
          ...(method === 'GET' ? {} : { 'content-type': o.type ?? 'application/octet-stream' }),
        },
        body: method === 'GET' ? undefined : (body as Uint8Array<ArrayBuffer>),
      });
  }

  /** Sends, expects the status and our error code, and checks no table changed. */
  async function refused(
    send: () => Promise<Response>,
    status: number,
    code: string,
    message?: RegExp,
  ) {
    const before = await rowCounts(running.ctx.db);
    const res = await send();
    const body = (await res.json()) as {
      error: { code?: string; message: string; data?: { coopflCode?: string } };
    };
    expect(res.status).toBe(status);
    expect(body.error.data?.coopflCode ?? body.error.code).toBe(code);
    if (message) expect(body.error.message).toMatch(message);
    expect(await rowCounts(running.ctx.db)).toEqual(before);
  }

  describe('signed node requests', () => {
    it('unknown member', async () => {
      await refused(
        signed({ memberId: 'ghost-00000000', identity: identityKeyPair() }, '/trpc/node.tasks'),
        403,
        'UnknownMember',
        /unknown member "ghost-00000000"/,
      );
    });

    it('bad signature', async () => {
      const flip = (h: Record<string, string>) => {
        const s = h['x-coopfl-signature']!;
        h['x-coopfl-signature'] = (s[0] === '0' ? '1' : '0') + s.slice(1);
      };
      await refused(signed(nodes[0]!, '/trpc/node.tasks', { tamper: flip }), 401, 'BadSignature');
      // Signed by a key that is not the member's.
      await refused(
        signed({ memberId: nodes[0]!.memberId, identity: identityKeyPair() }, '/trpc/node.tasks'),
        401,
        'BadSignature',
      );
    });

    it('stale timestamp', async () => {
      await refused(
        signed(nodes[0]!, '/trpc/node.tasks', { timestamp: Date.now() - 10 * 60_000 }),
        401,
        'StaleRequest',
        /600 s off/,
      );
    });

    it('replayed request', async () => {
      const once = signed(nodes[0]!, '/trpc/node.tasks');
      const first = await once();
      expect(first.status).toBe(200);
      await refused(once, 409, 'ReplayedRequest');
    });

    it('a revocation or key rotation made elsewhere holds from the next request', async () => {
      // Another coordinator on the same database (or the CLI) changes the member: nothing in this
      // process is told, yet its cached record of the member must not decide anything.
      const who = nodes[4]!;
      const id = who.memberId as never;
      expect((await signed(who, '/trpc/node.tasks')()).status).toBe(200);
      const setStatus = (status: 'approved' | 'revoked') =>
        running.ctx.db.update(members).set({ status }).where(eq(members.id, id));
      await setStatus('revoked');
      await refused(signed(who, '/trpc/node.tasks'), 403, 'MemberRevoked');
      await setStatus('approved');
      expect((await signed(who, '/trpc/node.tasks')()).status).toBe(200);

      const next = identityKeyPair();
      await running.ctx.db.transaction(async (tx) => {
        await tx
          .update(memberKeys)
          .set({ revokedAt: new Date() })
          .where(and(eq(memberKeys.memberId, id), isNull(memberKeys.revokedAt)));
        await tx.insert(memberKeys).values({ memberId: id, publicKey: next.publicKey });
      });
      await refused(signed(who, '/trpc/node.tasks'), 401, 'BadSignature');
      const rotated = { memberId: who.memberId, identity: next };
      expect((await signed(rotated, '/trpc/node.tasks')()).status).toBe(200);
      nodes[4] = { ...who, identity: next };
    });

    it('revoked member', async () => {
      await admin.members.revoke.mutate({ memberId: nodes[4]!.memberId });
      await refused(signed(nodes[4]!, '/trpc/node.tasks'), 403, 'MemberRevoked');
      nodes = nodes.slice(0, 4);
    });
  });

  describe('invites', () => {
    it('expired and reused invites', async () => {
      const join = (invite: string) => {
        const identity = identityKeyPair();
        const proof = Buffer.from(
          sign(joinProofMessage(invite, identity.publicKey), identity.privateKey),
        ).toString('hex');
        return () =>
          fetch(`${running.url}/trpc/join`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              invite,
              name: 'Late shop',
              publicKey: Buffer.from(identity.publicKey).toString('hex'),
              proof,
            }),
          });
      };
      const { invite: soon } = await createInvite(running.ctx, {
        createdBy: 'test',
        expiresInHours: 0.0001,
      });
      await new Promise((r) => setTimeout(r, 500));
      await refused(join(soon), 403, 'InviteInvalid', /expired/);
      const { invite } = await admin.invites.create.mutate({});
      await NodeClient.join(running.url, { invite, name: 'Once', identity: identityKeyPair() });
      await refused(join(invite), 403, 'InviteInvalid', /already been used/);
      await refused(
        join(invite.replace(/\.[0-9a-f]+$/, '.nothex')),
        403,
        'InviteInvalid',
        /not a CoopFL invite/,
      );
    });

    it('malformed JSON and wrong shapes name what is wrong', async () => {
      const post = (body: string) => () =>
        fetch(`${running.url}/trpc/join`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
      const before = await rowCounts(running.ctx.db);
      const res = await post('{"invite": ')();
      expect(res.status).toBe(400);
      const shape = await post(
        JSON.stringify({ invite: 'x', name: 'n', publicKey: 'zz', proof: '00' }),
      )();
      expect(shape.status).toBe(400);
      expect(((await shape.json()) as { error: { message: string } }).error.message).toMatch(
        /publicKey: must be 32 bytes of lowercase hex/,
      );
      expect(await rowCounts(running.ctx.db)).toEqual(before);
    });
  });

  describe('round messages', () => {
    let roundId: string;
    let states: ClientState[];
    /** Each cohort member's masked input, not sent by the setup. */
    let maskedInputs: Uint8Array[];

    beforeAll(async () => {
      // Member 3 withdraws consent for this model: it is left out of the cohort.
      await nodes[3]!.client.trpc.node.setConsent.mutate({
        models: ['something-else'],
        kpis: [],
        epsilonCaps: {},
      });
      ({ roundId } = await admin.rounds.start.mutate({ modelId: 'm' }));
      const cohort = nodes.slice(0, 3);
      const tasks = await Promise.all(
        cohort.map(async (n) =>
          (await n.client.tasks()).tasks.find((t) => t.round.roundId === roundId)!,
        ),
      );
      expect((await nodes[3]!.client.tasks()).tasks).toHaveLength(0);
      states = cohort.map((n, i) =>
        createClient({
          config: secAggConfigOf(tasks[i]!.round),
          index: tasks[i]!.clientIndex,
          identity: n.identity,
          input: { vector: new Float64Array(DIM).fill(0.1) },
        }),
      );
      // Advertise and share keys, so the round waits for masked inputs.
      const channels = cohort.map((n) => n.client.channel(roundId, { pollMs: 2_000 }));
      let inbound: (Uint8Array | undefined)[] = cohort.map(() => undefined);
      for (let stage = 0; stage < 2; stage++) {
        await Promise.all(
          states.map(async (s, i) => {
            const step = clientNext(
              s,
              inbound[i] ? { type: 'message', bytes: inbound[i] } : { type: 'start' },
            );
            if (!step.ok) throw step.error;
            states[i] = step.state;
            await channels[i]!.send(0, step.out[0]!);
          }),
        );
        inbound = await Promise.all(channels.map((c) => c.receive(0)));
      }
      maskedInputs = [];
      for (const [i, s] of states.entries()) {
        const step = clientNext(s, { type: 'message', bytes: inbound[i]! });
        if (!step.ok) throw step.error;
        states[i] = step.state;
        maskedInputs[i] = step.out[0]!;
      }
    }, 60_000);

    it('a masked input of the wrong length is refused, and the round still completes', async () => {
      const me = states[0]!;
      const config = me.o.config;
      const short = sealClientMessage(
        { stage: 'masked', roundId, from: me.o.index, masked: new Uint32Array(DIM) },
        nodes[0]!.identity.privateKey,
        config.digest,
      );
      await refused(
        signed(nodes[0]!, `/v1/rounds/${roundId}/messages`, { method: 'POST', body: short }),
        400,
        'BadRequest',
        /WrongLength: masked input from client \d+ has 64 words, expected 65/,
      );
    });

    it('a bad wait on a message is refused before the message is looked at', async () => {
      await refused(
        signed(nodes[0]!, `/v1/rounds/${roundId}/messages?wait=soon`, {
          method: 'POST',
          body: new Uint8Array(16),
        }),
        400,
        'BadRequest',
        /query wait/,
      );
    });

    it('a member cannot read another round’s messages', async () => {
      await refused(
        signed(nodes[3]!, `/v1/rounds/${roundId}/inbox?kind=keys`),
        403,
        'Forbidden',
        /is not part of round/,
      );
    });

    it('a payload over the limit', async () => {
      await refused(
        signed(nodes[0]!, `/v1/rounds/${roundId}/messages`, {
          method: 'POST',
          body: new Uint8Array(LIMIT + 1),
        }),
        413,
        'PayloadTooLarge',
      );
    });

    it('a chunked payload over the limit (no content-length to check up front)', async () => {
      const chunk = new Uint8Array(64 * 1024);
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent > LIMIT) return controller.close();
          sent += chunk.length;
          controller.enqueue(chunk);
        },
      });
      await refused(
        () =>
          fetch(`${running.url}/v1/rounds/${roundId}/messages`, {
            method: 'POST',
            headers: { 'content-type': 'application/octet-stream' },
            body,
            duplex: 'half',
          }),
        413,
        'PayloadTooLarge',
      );
    });

    // A round message's nonce is stored with its events, in one write: these check that a nonce
    // refused there stores nothing and leaves the round as it was.
    const post = (i: number, o: { random?: RandomSource } = {}) =>
      signed(nodes[i]!, `/v1/rounds/${roundId}/messages`, {
        method: 'POST',
        body: maskedInputs[i]!,
        ...o,
      });

    it('a replayed round message is refused as a replay', async () => {
      const once = post(1);
      expect((await once()).status).toBe(204);
      await refused(once, 409, 'ReplayedRequest');
    });

    it('a round message under a nonce its member used before is refused, and can be sent again', async () => {
      const nonce = () => seededRandom(2024);
      const earlier = signed(nodes[2]!, '/trpc/node.tasks', { random: nonce() });
      expect((await earlier()).status).toBe(200);
      await refused(post(2, { random: nonce() }), 409, 'ReplayedRequest');
      expect((await post(2)()).status).toBe(204);
    });

    it('a round message from a member revoked elsewhere is refused, and stores nothing', async () => {
      // Another coordinator revokes the member: its record here is cached as approved.
      await running.ctx.db
        .update(members)
        .set({ status: 'revoked' })
        .where(eq(members.id, nodes[0]!.memberId as never));
      await refused(post(0), 403, 'MemberRevoked');
    });
  });
});
