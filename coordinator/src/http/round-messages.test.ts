import { afterAll, beforeAll, expect, it } from 'vitest';
import { cryptoReady } from '@coopfl/protocol';
import type { RoundChannel } from '@coopfl/protocol/secagg';
import { sealClientMessage } from '@coopfl/protocol/secagg';
import type { AdminClient } from '../client';
import { NodeClient, secAggConfigOf } from '../client';
import { loadConfig } from '../config';
import type { RunningCoordinator } from '../server';
import { startCoordinator } from '../server';
import type { FleetNode } from '../testing/fleet';
import { bootstrapFleet, takePart, waitForRound } from '../testing/fleet';
import { describeTargets } from '../testing/targets';

beforeAll(cryptoReady);

const N = 3;
const DIM = 8;
/** Longer than any of these tests may take: a wait that ran its course fails the test. */
const LONG_POLL_MS = 30_000;

describeTargets('round messages and the next server message in one request', (fresh) => {
  let running: RunningCoordinator;
  let admin: AdminClient;
  let nodes: FleetNode[];
  /** "METHOD route" of every request the members' clients made. */
  const requests: string[] = [];

  beforeAll(async () => {
    running = await startCoordinator(
      loadConfig({ db: await fresh(), port: 0, keyFile: 'memory', logLevel: 'silent' }, {}),
    );
    const fleet = await bootstrapFleet(running, N);
    admin = fleet.admin;
    // The same members, through clients that record their requests.
    nodes = fleet.nodes.map((n) => ({
      ...n,
      client: new NodeClient({
        url: running.url,
        memberId: n.memberId,
        identity: n.identity,
        coordinatorKey: running.ctx.key.publicKey,
        transport: (url, init) => {
          const route = url.pathname.replace(/^\/v1\/rounds\/[^/]+/, '/v1/rounds/:id');
          requests.push(`${init.method ?? 'GET'} ${route}`);
          return fetch(url, init);
        },
      }),
    }));
    await admin.models.create.mutate({
      id: 'm',
      kind: 'test',
      dim: DIM,
      config: { stageTimeoutMs: 20_000 },
    });
  }, 120_000);
  afterAll(() => running?.close());

  const count = (route: string) => requests.filter((r) => r === route).length;
  const settlesWithin = (p: Promise<unknown>, ms: number) =>
    Promise.race([
      p.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref()),
    ]);

  it('each stage costs one signed request: no inbox polls, the same round outcome', async () => {
    for (const prefetch of [true, false]) {
      requests.length = 0;
      const { roundId } = await admin.rounds.start.mutate({ modelId: 'm' });
      await Promise.all(
        nodes.map((n) =>
          takePart(
            n,
            roundId,
            () => ({ vector: new Float64Array(DIM).fill(0.25) }),
            (c, id) => c.channel(id, { pollMs: LONG_POLL_MS, prefetch }),
          ),
        ),
      );
      const done = await waitForRound(admin, roundId);
      expect(done.status).toBe('done');
      // advertise, shares, masked input, unmask reply; the three server messages ride along.
      expect(count('POST /v1/rounds/:id/messages')).toBe(4 * N);
      expect(count('GET /v1/rounds/:id/inbox')).toBe(prefetch ? 0 : 3 * N);
    }
    const [latest] = await admin.rounds.list.query({ modelId: 'm', limit: 1 });
    expect(latest?.status).toBe('done');
  }, 60_000);

  it('an answer whose stream breaks off: the member asks its inbox, the round goes on', async () => {
    const { roundId } = await admin.rounds.start.mutate({ modelId: 'm' });
    const cut = nodes[0]!;
    // This member's connection drops while its message's answer is still streaming.
    const dropping = new NodeClient({
      url: running.url,
      memberId: cut.memberId,
      identity: cut.identity,
      coordinatorKey: running.ctx.key.publicKey,
      transport: async (url, init) => {
        const abort = new AbortController();
        const res = await fetch(url, { ...init, signal: abort.signal });
        if (url.pathname.endsWith('/messages')) setTimeout(() => abort.abort(), 50);
        return res;
      },
    });
    await Promise.all([
      takePart({ ...cut, client: dropping }, roundId, () => ({
        vector: new Float64Array(DIM).fill(0.5),
      })),
      ...nodes
        .slice(1)
        .map((n) => takePart(n, roundId, () => ({ vector: new Float64Array(DIM).fill(0.5) }))),
    ]);
    expect((await waitForRound(admin, roundId)).status).toBe('done');
  }, 60_000);

  it('a message is answered once applied, not when its stage closes; a decline at once', async () => {
    const { roundId } = await admin.rounds.start.mutate({ modelId: 'm' });
    // The first member's advertisement is answered while the others have not advertised yet.
    let firstSent!: () => void;
    const first = new Promise<void>((r) => (firstSent = r));
    const watched = (c: NodeClient, id: string): RoundChannel => {
      const inner = c.channel(id, { pollMs: LONG_POLL_MS });
      let sends = 0;
      return {
        send: async (from, bytes) => {
          await inner.send(from, bytes);
          if (++sends === 1) firstSent();
        },
        receive: (to) => inner.receive(to),
      };
    };
    const leader = takePart(
      nodes[0]!,
      roundId,
      () => ({ vector: new Float64Array(DIM).fill(0.5) }),
      watched,
    );
    expect(await settlesWithin(first, 10_000)).toBe(true);

    // The third member declines: nobody waits for it, and its decline is not held either.
    const decliner = nodes[2]!;
    const task = (await decliner.client.tasks()).tasks.find((t) => t.round.roundId === roundId)!;
    const decline = sealClientMessage(
      { stage: 'decline', roundId, from: task.clientIndex, reason: 'no-data' },
      decliner.identity.privateKey,
      secAggConfigOf(task.round).digest,
    );
    const declined = decliner.client
      .channel(roundId, { pollMs: LONG_POLL_MS })
      .send(task.clientIndex, decline);
    expect(await settlesWithin(declined, 10_000)).toBe(true);

    requests.length = 0;
    await Promise.all([
      leader,
      takePart(nodes[1]!, roundId, () => ({ vector: new Float64Array(DIM).fill(0.5) })),
    ]);
    expect((await waitForRound(admin, roundId)).status).toBe('done');
    expect(count('GET /v1/rounds/:id/inbox')).toBe(0);
  }, 60_000);
});
