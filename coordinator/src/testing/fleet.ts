import type { KeyPair } from '@coopfl/protocol';
import { identityKeyPair } from '@coopfl/protocol';
import type { ClientInput } from '@coopfl/protocol/secagg';
import { createClient, runClient } from '@coopfl/protocol/secagg';
import type { AdminClient } from '../client';
import { NodeClient, loginAdmin, secAggConfigOf } from '../client';
import type { RoundConfig } from '../rounds/round-config';
import type { RunningCoordinator } from '../server';
import { createAdmin } from '../services/admins';

export interface FleetNode {
  client: NodeClient;
  identity: KeyPair;
  memberId: string;
}

/** An admin session and `n` joined, approved protocol-level member nodes. */
export async function bootstrapFleet(
  running: Pick<RunningCoordinator, 'url'> & { ctx?: RunningCoordinator['ctx'] },
  n: number,
  opts: { retry?: { maxWaitMs: number } } = {},
): Promise<{ admin: AdminClient; nodes: FleetNode[] }> {
  // In-process coordinators get their admin here; a child process gets it from the CLI.
  if (running.ctx) {
    await createAdmin(running.ctx, { username: 'root', password: 'correct horse battery' }).catch(
      () => undefined,
    );
  }
  const { client: admin } = await loginAdmin(running.url, 'root', 'correct horse battery');
  const nodes: FleetNode[] = [];
  for (let i = 0; i < n; i++) {
    const { invite } = await admin.invites.create.mutate({});
    const identity = identityKeyPair();
    const joined = await NodeClient.join(running.url, { invite, name: `Shop ${i}`, identity });
    await admin.members.approve.mutate({ memberId: joined.memberId });
    nodes.push({
      identity,
      memberId: joined.memberId,
      client: new NodeClient({
        url: running.url,
        memberId: joined.memberId,
        identity,
        coordinatorKey: joined.coordinatorKey,
        retry: { maxWaitMs: opts.retry?.maxWaitMs ?? 30_000, initialDelayMs: 50, maxDelayMs: 500 },
      }),
    });
  }
  return { admin, nodes };
}

/**
 * One member's part in a training round, as a node does it: find the signed task, fetch the
 * signed base weights, compute an update, and run secure aggregation over HTTP.
 */
export async function takePart(
  node: FleetNode,
  roundId: string,
  update: (global: Float32Array, task: RoundConfig) => ClientInput,
  channel?: (c: NodeClient, roundId: string) => ReturnType<NodeClient['channel']>,
): Promise<void> {
  const { tasks } = await node.client.tasks();
  const task = tasks.find((t) => t.round.roundId === roundId);
  if (!task) throw new Error(`${node.memberId} has no task for ${roundId}`);
  const global = await node.client.weights(task.round.modelId, task.round.baseVersion);
  const client = createClient({
    config: secAggConfigOf(task.round),
    index: task.clientIndex,
    identity: node.identity,
    input: update(global, task.round),
    ...(task.round.noise ? { skellamMu: task.round.noise.perClientMu } : {}),
  });
  await runClient(
    channel ? channel(node.client, roundId) : node.client.channel(roundId, { pollMs: 2_000 }),
    client,
  );
}

/** Waits until the round has been released (done or failed) and returns its status row. */
export async function waitForRound(admin: AdminClient, roundId: string, timeoutMs = 60_000) {
  const start = Date.now();
  for (;;) {
    const r = await admin.rounds.get.query({ roundId });
    if (r.status === 'done' || r.status === 'failed') return r;
    if (Date.now() - start > timeoutMs)
      throw new Error(`round ${roundId} still ${r.status} after ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 50));
  }
}
