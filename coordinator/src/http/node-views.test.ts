import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cryptoReady, nodeId } from '@coopfl/protocol';
import type { AdminClient } from '../client';
import { NodeClient } from '../client';
import { loadConfig } from '../config';
import type { RunningCoordinator } from '../server';
import { startCoordinator } from '../server';
import { setConsent } from '../services/consent';
import type { FleetNode } from '../testing/fleet';
import { bootstrapFleet, takePart, waitForRound } from '../testing/fleet';

beforeAll(cryptoReady);

describe('node views of models and rounds', () => {
  let running: RunningCoordinator;
  let admin: AdminClient;
  let nodes: FleetNode[];

  beforeAll(async () => {
    running = await startCoordinator(
      loadConfig({ db: 'memory://', port: 0, keyFile: 'memory', logLevel: 'silent' }, {}),
    );
    ({ admin, nodes } = await bootstrapFleet(running, 4));
  }, 60_000);
  afterAll(() => running?.close());

  it('a member lists models with kind, architecture and latest version', async () => {
    await admin.models.create.mutate({ id: 'fraud', kind: 'fraud' });
    await admin.models.create.mutate({ id: 'opaque', kind: 'custom', dim: 4 });
    const list = await nodes[0]!.client.trpc.node.models.query();
    expect(list.map((m) => [m.id, m.kind, m.latestVersion])).toEqual([
      ['fraud', 'fraud', 0],
      ['opaque', 'custom', 0],
    ]);
    expect(list[0]!.architecture?.kind).toBe('fraud');
    expect(list[1]!.architecture).toBeNull();
  });

  it('a member sees the outcome of its own rounds only', async () => {
    const { roundId } = await admin.rounds.start.mutate({ modelId: 'opaque' });
    await Promise.all(
      nodes.map((n) => takePart(n, roundId, () => ({ vector: [0.1, 0, 0, 0], weight: 1 }))),
    );
    await waitForRound(admin, roundId);
    const r = await nodes[1]!.client.trpc.node.round.query({ roundId });
    expect(r).toMatchObject({ id: roundId, status: 'done', resultVersion: 1 });
    await expect(nodes[1]!.client.trpc.node.round.query({ roundId: 'nope' })).rejects.toThrow(
      /no round "nope" of this member/,
    );
  });

  it('members polling at once share the reads of their tasks and consent edits', async () => {
    await admin.models.create.mutate({ id: 'polled', kind: 'custom', dim: 2 });
    const { roundId } = await admin.rounds.start.mutate({ modelId: 'polled' });
    const edit = { kpis: [], epsilonCaps: {} };
    await setConsent(running.ctx, nodeId(nodes[2]!.memberId), edit, 'member', 'dashboard');
    // In-process requests: the polls reach the coordinator in one event-loop turn.
    const clients = nodes.map(
      (n) =>
        new NodeClient({
          url: running.url,
          memberId: n.memberId,
          identity: n.identity,
          coordinatorKey: running.ctx.key.publicKey,
          transport: (url, init) => running.fetch(url, init),
        }),
    );
    const db = running.ctx.db;
    let selects = 0;
    running.ctx.db = new Proxy(db, {
      get(target, prop, receiver) {
        if (prop === 'select') selects++;
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    try {
      // Caches and prepared statements are per database handle: fill them for this one first.
      for (const c of clients) await c.tasks();
      selects = 0;
      const polls = await Promise.all(clients.map((c) => c.tasks()));
      // One read of the members' rounds and one of their consent edits, not two per member.
      expect(selects).toBe(2);
      expect(polls.map((p) => p.tasks.map((t) => [t.round.roundId, t.clientIndex]))).toEqual(
        nodes.map((_, i) => [[roundId, i]]),
      );
      expect(polls.map((p) => p.consentEditAt !== null)).toEqual([false, false, true, false]);
    } finally {
      running.ctx.db = db;
    }
  });
});
