import { identityKeyPair } from '@coopfl/protocol';
import { NodeClient } from '@coopfl/coordinator/client';
import type { FleetNode } from '@coopfl/coordinator/testing/fleet';
import { takePart } from '@coopfl/coordinator/testing/fleet';

/** Joins with an invite (as `coopfl-node init` does) and returns the protocol-level node. */
export async function joinWithInvite(
  url: string,
  invite: string,
  name: string,
): Promise<FleetNode> {
  const identity = identityKeyPair();
  const joined = await NodeClient.join(url, { invite, name, identity });
  return {
    identity,
    memberId: joined.memberId,
    client: new NodeClient({
      url,
      memberId: joined.memberId,
      identity,
      coordinatorKey: joined.coordinatorKey,
      retry: { maxWaitMs: 10_000, initialDelayMs: 50, maxDelayMs: 500 },
    }),
  };
}

/**
 * Keeps protocol-level member nodes taking part in every round they are given, as real nodes
 * would: a training round gets a small update, an evaluation round the metric `quality(version)`
 * for every metric asked. Real secure aggregation over HTTP; only the numbers are made up.
 */
export function participate(
  nodes: () => readonly FleetNode[],
  quality: (version: number) => number,
): { stop(): Promise<void> } {
  let stopped = false;
  const seen = new Set<string>();
  const jobs = new Set<Promise<void>>();
  const loop = (async () => {
    while (!stopped) {
      for (const n of nodes()) {
        const { tasks } = await n.client.tasks().catch(() => ({ tasks: [] }));
        for (const t of tasks) {
          const key = `${n.memberId}/${t.round.roundId}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const job = takePart(n, t.round.roundId, (global, rc) =>
            rc.kind === 'eval'
              ? { vector: rc.metrics.map(() => quality(rc.baseVersion)), weight: 1 }
              : { vector: Array.from(global, () => 0.05), weight: 1 },
          )
            .catch(() => undefined)
            .finally(() => jobs.delete(job));
          jobs.add(job);
        }
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      await Promise.all([...jobs]);
    },
  };
}
