import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cryptoReady, seededRandom } from '@coopfl/protocol';
import type { RunningCoordinator } from '@coopfl/coordinator';
import { createAdmin, loadConfig, startCoordinator } from '@coopfl/coordinator';
import { loginAdmin } from '@coopfl/coordinator/client';
import { initTf } from '@coopfl/node';
import { parseExperimentConfig } from '../config';
import { waitForRound } from '../federated';
import { deriveSeed } from '../random';
import { architectureOf, modelConfigOf } from '../run';
import { loadShops } from '../shops';
import { TINY } from '../tiny.fixture';
import { NodeFleet } from './fleet';
import type { HostSettings, NodeHost, NodeSpec, TrainJob } from './host';
import { InProcessHost } from './in-process';
import { createStoreTemplate } from './store-template';
import { WorkerHost } from './worker';

/**
 * One conformance suite for every {@link NodeHost}: each implementation opens two tiny shops'
 * nodes against its own fresh coordinator (seeded alike) and goes through every operation; what
 * each returns must also be identical across implementations (same seed → same numbers, whichever
 * thread the nodes run in).
 */
const IMPLEMENTATIONS: {
  name: string;
  start: (s: HostSettings, c: RunningCoordinator) => Promise<NodeHost>;
}[] = [
  {
    name: 'in-process, HTTP',
    start: (s) => Promise.resolve(new InProcessHost(s)),
  },
  { name: 'worker thread, HTTP', start: (s) => WorkerHost.start(s) },
  {
    name: 'worker thread, in-memory transport',
    start: (s, c) => WorkerHost.start(s, { fetch: (u, init) => c.fetch(u, init) }),
  },
  {
    name: 'fleet of two workers, HTTP',
    start: (s) => NodeFleet.start({ workers: 2, nodes: 2, settings: s }),
  },
];

const cfg = parseExperimentConfig({ ...TINY, stores: 2, models: ['fraud'] });
const arch = architectureOf(cfg, 'fraud');
const dirs: string[] = [];
/** Each implementation's answers, compared at the end. */
const seen = new Map<string, unknown>();

afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function cooperative() {
  await cryptoReady();
  await initTf({ log: () => undefined });
  const coordinator = await startCoordinator(
    loadConfig(
      { db: 'memory://', port: 0, keyFile: 'memory', logLevel: 'silent', autoApprove: true },
      {},
    ),
  );
  coordinator.ctx.random = seededRandom(deriveSeed(cfg.seed, 'coordinator', 'fraud'));
  await createAdmin(coordinator.ctx, { username: 'conf', password: 'conformance admin pass' });
  const { client: admin, token } = await loginAdmin(
    coordinator.url,
    'conf',
    'conformance admin pass',
  );
  const root = await mkdtemp(join(tmpdir(), 'coopfl-host-'));
  dirs.push(root);
  const storeTemplate = join(root, 'template');
  await createStoreTemplate(storeTemplate);
  const specs: NodeSpec[] = [];
  for (const [index, shop] of (await loadShops(cfg)).entries()) {
    const csvDir = join(root, `csv-${index}`);
    await mkdir(csvDir);
    await shop.write(csvDir);
    const { invite } = await admin.invites.create.mutate({});
    const dir = join(root, `node-${index}`);
    specs.push({
      index,
      storeId: shop.storeId,
      orders: shop.orders,
      invite,
      csvDir,
      dir,
      attack: null,
    });
  }
  const settings: HostSettings = { seed: cfg.seed, coordinatorUrl: coordinator.url, storeTemplate };
  return { coordinator, admin, token, settings, specs };
}

const jobs = (label: string): TrainJob[] =>
  [0, 1].map((index) => ({
    index,
    epochs: 2,
    learningRate: 0.01,
    batchSize: 64,
    mu: 0,
    seed: deriveSeed(cfg.seed, 'conformance', label, index),
  }));

describe.each(IMPLEMENTATIONS)('NodeHost: $name', ({ name, start }) => {
  it('opens real nodes, prepares, runs a round, evaluates, trains, pools and closes', async () => {
    const { coordinator, admin, token, settings, specs } = await cooperative();
    let host: NodeHost | undefined;
    try {
      host = await start(settings, coordinator);
      let ticks = 0;
      const joined = await host.open({ specs }, () => ticks++);
      expect(joined.map((j) => [j.index, j.status])).toEqual([
        [0, 'approved'],
        [1, 'approved'],
      ]);
      expect(ticks).toBe(2);
      const members = await admin.members.list.query();
      expect(joined.map((j) => j.memberId).sort()).toEqual(members.map((m) => m.id).sort());

      // An operation that fails on the host fails for the caller, with the host's reason.
      await expect(
        host.evaluate({ kind: 'fraud', arch, weights: new Float32Array(1), split: 'test' }),
      ).rejects.toThrow('fraud is not prepared');

      ticks = 0;
      const prepared = await host.prepare({ kind: 'fraud', arch }, () => ticks++);
      expect(ticks).toBe(2);
      expect(prepared.map((p) => p.index)).toEqual([0, 1]);
      for (const p of prepared) {
        expect(p.skipped).toBeNull();
        expect(p.counts!.train).toBeGreaterThan(0);
      }

      await admin.models.create.mutate({
        id: 'fraud',
        kind: 'fraud',
        config: modelConfigOf(cfg, arch),
      });
      const { roundId } = await admin.rounds.start.mutate({ modelId: 'fraud' });
      const counts = await host.runRound({
        roundId,
        kind: 'fraud',
        round: 1,
        online: [0, 1],
        late: [1],
        delayMs: 200,
      });
      expect(counts).toEqual({ refusals: 0, errors: 0, clipped: 0 });
      const round = await waitForRound(admin, roundId, 60_000);
      expect(round.status, round.error ?? '').toBe('done');
      const res = await fetch(
        `${coordinator.url}/v1/models/fraud/versions/${round.resultVersion}/weights`,
        { headers: { authorization: `Bearer ${token}` } },
      );
      const weights = new Float32Array(await res.arrayBuffer());

      const test = await host.evaluate({ kind: 'fraud', arch, weights, split: 'test' });
      const validation = await host.evaluate({ kind: 'fraud', arch, weights, split: 'validation' });
      expect(test.map((m) => m.index)).toEqual([0, 1]);
      for (const m of [...test, ...validation]) expect(Object.keys(m.metrics!)).toContain('pr_auc');

      ticks = 0;
      const trained = await host.train(
        { kind: 'fraud', arch, weights, jobs: jobs('a') },
        () => ticks++,
      );
      expect(ticks).toBe(2);
      // Seeded: the same job gives the same model.
      expect(await host.train({ kind: 'fraud', arch, weights, jobs: jobs('a') })).toEqual(trained);

      const baselines = await host.baselines({ kind: 'fraud' });
      expect(baselines.map((b) => Object.keys(b.baselines))).toEqual([
        ['amount_rule'],
        ['amount_rule'],
      ]);

      const pooled = await host.trainingData({ kind: 'fraud' });
      expect(pooled.map((d) => d.index)).toEqual([0, 1]);
      for (const [i, { data }] of pooled.entries()) {
        expect(data.train.x).toBeInstanceOf(Float32Array);
        expect(data.train.x.length).toBe(data.train.size * data.train.width);
        expect(data.counts.train).toBe(prepared[i]!.counts!.train);
      }
      // What the host keeps is not detached by handing the data over.
      expect(await host.evaluate({ kind: 'fraud', arch, weights, split: 'test' })).toEqual(test);

      seen.set(name, {
        prepared,
        round: [round.status, round.resultVersion],
        weights: [...weights],
        test,
        validation,
        trained,
        baselines,
        pooled: pooled.map(({ data }) => [data.train.size, [...data.train.x.slice(0, 50)]]),
      });
    } finally {
      await host?.close();
      await coordinator.close();
    }
  }, 120_000);
});

describe('NodeHost implementations', () => {
  it('agree exactly (same seed, same numbers, whichever thread the nodes run in)', () => {
    const [first, ...rest] = IMPLEMENTATIONS.map((i) => seen.get(i.name));
    expect(first).toBeDefined();
    for (const other of rest) expect(other).toEqual(first);
  });
});
