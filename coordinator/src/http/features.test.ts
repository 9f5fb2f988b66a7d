import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cryptoReady, identityKeyPair } from '@coopfl/protocol';
import { asNoiseMultiplier, epsilonFor, tighterEpsilon } from '@coopfl/protocol/dp';
import { defaultArchitecture, manifestOf } from '@coopfl/protocol/models';
import type { AdminClient } from '../client';
import { NodeClient } from '../client';
import { loadConfig } from '../config';
import { models } from '../db';
import type { RunningCoordinator } from '../server';
import { startCoordinator } from '../server';
import type { FleetNode } from '../testing/fleet';
import { bootstrapFleet, takePart, waitForRound } from '../testing/fleet';

beforeAll(cryptoReady);

describe('configuration', () => {
  it('a bad value names the setting, its flag and its variable', () => {
    expect(() => loadConfig({ port: 'eighty' }, {})).toThrow(
      /invalid setting port \(--port or COOPFL_PORT\)/,
    );
    expect(() => loadConfig({}, { COOPFL_LOG_LEVEL: 'loud' })).toThrow(
      /invalid setting logLevel \(--log-level or COOPFL_LOG_LEVEL\)/,
    );
    expect(loadConfig({}, { DATABASE_URL: 'postgres://x@h/db' }).db).toBe('postgres://x@h/db');
    expect(loadConfig({ db: 'memory://' }, { DATABASE_URL: 'postgres://x@h/db' }).db).toBe(
      'memory://',
    );
  });
});

describe('rounds beyond plain FedAvg', () => {
  let running: RunningCoordinator;
  let admin: AdminClient;
  let nodes: FleetNode[];
  const DIM = 40;

  beforeAll(async () => {
    running = await startCoordinator(
      loadConfig({ db: 'memory://', port: 0, keyFile: 'memory', logLevel: 'silent' }, {}),
    );
    ({ admin, nodes } = await bootstrapFleet(running, 4));
  }, 60_000);
  afterAll(() => running?.close());

  it('a model of a cooperative kind gets its architecture, dim and shared random start', async () => {
    const created = await admin.models.create.mutate({ id: 'fr', kind: 'fraud' });
    const { dim, entries } = manifestOf(defaultArchitecture('fraud'));
    expect(created.dim).toBe(dim);
    const w = await nodes[0]!.client.weights('fr', 0);
    expect(w).toHaveLength(dim);
    const kernel = w.subarray(entries[0]!.offset, entries[0]!.offset + entries[0]!.size);
    const bias = w.subarray(entries[1]!.offset, entries[1]!.offset + entries[1]!.size);
    expect(kernel.some((v) => v !== 0)).toBe(true);
    expect(bias.every((v) => v === 0)).toBe(true);
    await expect(admin.models.create.mutate({ id: 'fr2', kind: 'fraud', dim: 10 })).rejects.toThrow(
      /dim 10 does not match the fraud architecture/,
    );
    await expect(admin.models.create.mutate({ id: 'x', kind: 'custom' })).rejects.toThrow(
      /dim is required for a model of kind "custom"/,
    );
  });

  it('a model of a cooperative kind trains with its default server optimizer unless told', async () => {
    const strategyOf = async (id: string) =>
      (await running.ctx.db.select().from(models).where(eq(models.id, id)))[0]!.config.strategy;
    await admin.models.create.mutate({ id: 'rec', kind: 'recommendation' });
    expect(await strategyOf('rec')).toMatchObject({ kind: 'fedadam', eta: 0.03 });
    await admin.models.create.mutate({ id: 'dem', kind: 'demand' });
    expect(await strategyOf('dem')).toMatchObject({ kind: 'fedavg', eta: 1 });
    await admin.models.create.mutate({
      id: 'rec-yogi',
      kind: 'recommendation',
      config: { strategy: { kind: 'fedyogi', eta: 0.01 } },
    });
    expect(await strategyOf('rec-yogi')).toMatchObject({ kind: 'fedyogi', eta: 0.01 });
    await admin.models.create.mutate({ id: 'opaque-kind', kind: 'test', dim: 3 });
    expect(await strategyOf('opaque-kind')).toMatchObject({ kind: 'fedavg' });
  });

  it('an evaluation round releases only the average of the members’ metrics', async () => {
    await admin.models.create.mutate({ id: 'ev', kind: 'test', dim: DIM });
    const { roundId } = await admin.rounds.start.mutate({
      modelId: 'ev',
      kind: 'eval',
      metrics: ['wape', 'hit_rate'],
    });
    const values = nodes.map((_, i) => [0.2 + 0.1 * i, 0.5 - 0.05 * i]);
    await Promise.all(
      nodes.map((n, i) => takePart(n, roundId, () => ({ vector: values[i]!, weight: 1 }))),
    );
    const done = await waitForRound(admin, roundId);
    expect(done.status).toBe('done');
    expect(done.resultVersion).toBeNull(); // evaluation does not change the model
    const models = await admin.models.list.query();
    const evalMetrics = (
      models.find((m) => m.id === 'ev')!.metrics as { eval: Record<string, number> }
    ).eval;
    expect(evalMetrics.wape).toBeCloseTo((0.2 + 0.3 + 0.4 + 0.5) / 4, 5);
    expect(evalMetrics.hit_rate).toBeCloseTo((0.5 + 0.45 + 0.4 + 0.35) / 4, 5);
  }, 60_000);

  it('central DP: noise on the sum, a ledger entry per member with the accountant’s ε, budgets enforced', async () => {
    const z = 3;
    await admin.models.create.mutate({
      id: 'dp',
      kind: 'test',
      dim: DIM,
      config: {
        dp: { mode: 'central', clipNorm: 1, noiseMultiplier: z, delta: 1e-5, epsilonBudget: 1.5 },
      },
    });
    const run = async () => {
      const { roundId } = await admin.rounds.start.mutate({ modelId: 'dp' });
      await Promise.all(
        nodes.map((n) =>
          takePart(n, roundId, () => ({ vector: new Float64Array(DIM).fill(0.01) })),
        ),
      );
      return waitForRound(admin, roundId);
    };
    const first = await run();
    expect(first.status).toBe('done');
    // The released model moved by noise of std z·C/n = 0.75 per coordinate, far beyond the 0.01 signal.
    const w = await nodes[0]!.client.weights('dp', first.resultVersion!);
    const spread = Math.sqrt(w.reduce((s, x) => s + (x - 0.01) ** 2, 0) / DIM);
    expect(spread).toBeGreaterThan(0.3);
    const ledger = await admin.privacy.ledger.query({});
    const rows = ledger.filter((r) => r.modelId === 'dp');
    expect(rows).toHaveLength(nodes.length);
    const expected = tighterEpsilon({
      events: [
        { mechanism: 'gaussian', noiseMultiplier: asNoiseMultiplier(z), samplingRate: 1, steps: 1 },
      ],
      delta: 1e-5,
    }).epsilon;
    for (const r of rows) {
      expect(r.unit).toBe('member');
      expect(r.epsilon).toBeCloseTo(expected, 9);
    }
    // Members see their own spend only.
    const mine = await nodes[1]!.client.trpc.node.status.query();
    expect(mine.privacy).toEqual([{ modelId: 'dp', epsilon: rows[0]!.epsilon, unit: 'member' }]);
    // A second round would take every member past ε = 1.5: none is eligible, nothing starts.
    expect(expected).toBeLessThan(1.5);
    await expect(admin.rounds.start.mutate({ modelId: 'dp' })).rejects.toThrow(
      /0 members sampled from 0 eligible .*4 by privacy budget/,
    );
  }, 60_000);

  it('distributed DP: members add Skellam noise before masking; the ledger records it exactly', async () => {
    const z = 3;
    await admin.models.create.mutate({
      id: 'ddp',
      kind: 'test',
      dim: DIM,
      config: {
        dp: { mode: 'distributed', clipNorm: 1, noiseMultiplier: z, delta: 1e-5, epsilonBudget: 5 },
      },
    });
    const { roundId } = await admin.rounds.start.mutate({ modelId: 'ddp' });
    const signal = 0.01;
    await Promise.all(
      nodes.map((n) =>
        takePart(n, roundId, () => ({ vector: new Float64Array(DIM).fill(signal) })),
      ),
    );
    const done = await waitForRound(admin, roundId);
    expect(done.status).toBe('done');
    // Any 2 survivors carry variance (z·C)²; all 4 together 2(z·C)²: the mean's noise std is √2·z·C/4 ≈ 1.06.
    const w = await nodes[0]!.client.weights('ddp', done.resultVersion!);
    const spread = Math.sqrt(w.reduce((s, x) => s + (x - signal) ** 2, 0) / DIM);
    expect(spread).toBeGreaterThan(0.6);
    expect(spread).toBeLessThan(1.7);
    const rows = (await admin.privacy.ledger.query({})).filter((r) => r.modelId === 'ddp');
    expect(rows).toHaveLength(nodes.length);
    const params = rows[0]!.params as { mu: number; l2Sensitivity: number; l1Sensitivity: number };
    expect(rows[0]!.mechanism).toBe('skellam');
    const expected = epsilonFor({
      events: [{ mechanism: 'skellam', skellam: params, samplingRate: 1, steps: 1 }],
      delta: 1e-5,
      accountant: 'rdp',
    }).epsilon;
    for (const r of rows) expect(r.epsilon).toBeCloseTo(expected, 9);
    // The Skellam guarantee is close to the Gaussian one at the same z (discreteness costs little).
    const gaussian = epsilonFor({
      events: [
        { mechanism: 'gaussian', noiseMultiplier: asNoiseMultiplier(z), samplingRate: 1, steps: 1 },
      ],
      delta: 1e-5,
      accountant: 'rdp',
    }).epsilon;
    expect(expected / gaussian).toBeGreaterThan(0.99);
    expect(expected / gaussian).toBeLessThan(1.1);
  }, 60_000);

  it('key rotation: the new key signs from now on, the old one is refused', async () => {
    const node = nodes[2]!;
    const old = node.identity;
    const next = identityKeyPair();
    await node.client.rotateKey(next);
    expect((await node.client.trpc.node.status.query()).member.id).toBe(node.memberId);
    const stale = new NodeClient({
      url: running.url,
      memberId: node.memberId,
      identity: old,
      coordinatorKey: running.ctx.key.publicKey,
      retry: { maxWaitMs: 1_000, initialDelayMs: 10, maxDelayMs: 10 },
    });
    await expect(stale.trpc.node.status.query()).rejects.toThrow(/signature .* does not verify/);
  });
});
