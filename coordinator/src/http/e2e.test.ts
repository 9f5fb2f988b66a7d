import type { QuantizationParams } from '@coopfl/protocol/secagg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cryptoReady } from '@coopfl/protocol';
import { InMemoryChannel, createClient, generateCohort, runClient } from '@coopfl/protocol/secagg';
import { fedAvg } from '@coopfl/protocol/strategy';
import { loadConfig } from '../config';
import { secAggConfigOf } from '../rounds/round-config';
import type { RunningCoordinator } from '../server';
import { startCoordinator } from '../server';
import { checkThreeFedAvgRounds } from '../testing/conformance';
import type { FleetNode } from '../testing/fleet';
import { bootstrapFleet, takePart, waitForRound } from '../testing/fleet';
import { describeTargets } from '../testing/targets';
import type { AdminClient } from '../client';

beforeAll(cryptoReady);

const N = 10;
const DIM = 300;

it('conformance on the in-memory channel: three FedAvg rounds equal plaintext FedAvg', async () => {
  await checkThreeFedAvgRounds(N, DIM, async (r, global, deltas) => {
    const { config, identities } = generateCohort({
      clients: N,
      dim: DIM,
      clipRange: 1,
      round: `mem-${r}`,
    });
    const channel = new InMemoryChannel(config, 5_000);
    await Promise.all(
      deltas.map((vector, index) =>
        runClient(
          channel,
          createClient({ config, index, identity: identities[index]!, input: { vector } }),
        ),
      ),
    );
    const result = await channel.result;
    return { next: fedAvg().step(global, result, undefined).weights, quant: config.quant };
  });
});

describeTargets('coordinator over HTTP', (fresh) => {
  let running: RunningCoordinator;
  let admin: AdminClient;
  let nodes: FleetNode[];

  beforeAll(async () => {
    running = await startCoordinator(
      loadConfig({ db: await fresh(), port: 0, keyFile: 'memory', logLevel: 'silent' }, {}),
    );
    ({ admin, nodes } = await bootstrapFleet(running, N));
    await admin.models.create.mutate({
      id: 'shared',
      kind: 'test',
      dim: DIM,
      config: { stageTimeoutMs: 20_000 },
    });
  }, 120_000);
  afterAll(() => running?.close());

  it('ten protocol-level clients complete three rounds; the model moves as plaintext FedAvg', async () => {
    await checkThreeFedAvgRounds(N, DIM, async (_r, global, deltas) => {
      const { roundId, cohort } = await admin.rounds.start.mutate({ modelId: 'shared' });
      expect(cohort).toBe(N);
      const byMember = new Map(nodes.map((n, i) => [n.memberId, deltas[i]!]));
      let quant: QuantizationParams | undefined;
      await Promise.all(
        nodes.map((node) =>
          takePart(node, roundId, (base, task) => {
            expect(Array.from(base)).toEqual(Array.from(global)); // the signed base weights
            quant = secAggConfigOf(task).quant;
            return { vector: byMember.get(node.memberId)! };
          }),
        ),
      );
      const done = await waitForRound(admin, roundId);
      expect(done.status).toBe('done');
      expect(done.resultVersion).toBe(done.baseVersion! + 1);
      const next = await nodes[0]!.client.weights('shared', done.resultVersion!);
      return { next, quant: quant! };
    });
    const models = await admin.models.list.query();
    expect(models.find((m) => m.id === 'shared')?.latestVersion).toBe(3);
  }, 120_000);

  it('exposes /healthz and Prometheus /metrics with round outcomes', async () => {
    expect(await (await fetch(`${running.url}/healthz`)).json()).toEqual({ ok: true });
    const text = await (await fetch(`${running.url}/metrics`)).text();
    expect(text).toMatch(/coopfl_rounds_total\{outcome="done",kind="train"\} 3/);
    expect(text).toMatch(/coopfl_round_stage_duration_seconds_count\{stage="unmask"\} 3/);
  });
});
