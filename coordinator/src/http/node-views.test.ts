import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cryptoReady } from '@coopfl/protocol';
import type { AdminClient } from '../client';
import { loadConfig } from '../config';
import type { RunningCoordinator } from '../server';
import { startCoordinator } from '../server';
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
    ({ admin, nodes } = await bootstrapFleet(running, 3));
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
});
