import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cryptoReady, systemRandom } from '@coopfl/protocol';
import type { ModelKind } from '@coopfl/protocol/models';
import { MODEL_KINDS, defaultArchitecture } from '@coopfl/protocol/models';
import { KPI_IDS } from '@coopfl/protocol/benchmarks';
import type { RunningCoordinator } from '@coopfl/coordinator';
import { createAdmin, loadConfig, startCoordinator } from '@coopfl/coordinator';
import type { AdminClient } from '@coopfl/coordinator/client';
import { loginAdmin } from '@coopfl/coordinator/client';
import type { RunningDashboard } from '@coopfl/dashboard/dev-server';
import { startDashboard } from '@coopfl/dashboard/dev-server';
import { initTf } from '@coopfl/node';
import { importCanonical } from '@coopfl/node/import';
import type { NodeHandle } from '@coopfl/node/runtime';
import { createModelProvider, initNode, openNode } from '@coopfl/node/runtime';
import { MODEL_RUNTIMES } from '@coopfl/node/models';
import type { RunningServe } from '@coopfl/node/serve';
import { startServe } from '@coopfl/node/serve';
import type { OpenedStore } from '@coopfl/node/store';
import { MEMORY_STORE, openStore } from '@coopfl/node/store';
import { generateCooperative, shopTables, storeIdsOf, writeCooperative } from '@coopfl/node/synth';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Member shops (one node each). Default 3. */
  readonly shops?: number;
  /** Training rounds per model; undefined: keep training until `signal` aborts. */
  readonly rounds?: number;
  /** Coordinator port on 127.0.0.1 (0: any free port). Default 8787. */
  readonly port?: number;
  /** Port of the first shop's prediction API (0: any free port). Default 8788. */
  readonly servePort?: number;
  /** Dashboard port on 127.0.0.1 (0: any free port); `false`: no dashboard. Default 8789. */
  readonly dashboardPort?: number | false;
  /** Seed of the synthetic cooperative. Default 1. */
  readonly seed?: number;
  readonly signal?: AbortSignal;
  /** Where progress lines go (default stderr). */
  readonly print?: (line: string) => void;
}

/** What a finished demo did: per model, the released versions and the last evaluation. */
export interface DemoSummary {
  readonly coordinatorUrl: string;
  readonly dashboardUrl: string | null;
  readonly serveUrl: string;
  readonly rounds: number;
  readonly models: Record<
    string,
    { readonly version: number; readonly eval: Record<string, number> | null }
  >;
  /** The shared KPI benchmark run after the first round: KPIs released of those asked for. */
  readonly benchmark: {
    readonly period: string;
    readonly released: number;
    readonly kpis: number;
  } | null;
}

/** The last whole month of the demo's synthetic year (2024-01-01 plus 365 days). */
const DEMO_PERIOD = '2024-11';

/**
 * The demo's shared KPI benchmark of {@link DEMO_PERIOD}: one run with central DP (as a cooperative
 * would run it) and one exact run without, since a handful of shops is too few for DP noise to
 * leave a readable figure. Returns the exact run's count of released KPIs.
 */
async function runDemoBenchmark(admin: AdminClient, shops: number, signal?: AbortSignal) {
  await admin.benchmarks.setSettings.mutate({
    minContributors: Math.min(5, shops),
    bins: 10,
    confidence: 0.95,
    dp: { mode: 'central', epsilonPerRun: 2, delta: 1e-5, epsilonBudget: 20 },
    stageTimeoutMs: 30_000,
  });
  let released = 0;
  for (const dp of ['central', 'off'] as const) {
    const started = await admin.benchmarks.run.mutate({ period: DEMO_PERIOD, dp });
    const done = await waitForRound(admin, started.roundId, signal);
    if (!done || done.status !== 'done') return null;
    const [run] = (await admin.benchmarks.published.query({ period: DEMO_PERIOD })).filter(
      (r) => r.roundId === started.roundId,
    );
    released = run?.kpis.filter((k) => k.status === 'released').length ?? 0;
  }
  return { period: DEMO_PERIOD, released, kpis: KPI_IDS.length };
}

/** Small networks, so a round of each model takes seconds on a laptop. */
function demoModelConfig(kind: ModelKind) {
  return {
    architecture:
      kind === 'recommendation'
        ? defaultArchitecture(kind, { vocab: 1024, hidden: 32, embeddingDim: 16 })
        : defaultArchitecture(kind, { hidden: 32 }),
    training: { epochs: 2, learningRate: 0.01, batchSize: 64, mu: 0.01 },
    stageTimeoutMs: 30_000,
  };
}

/** The round once released or failed; null when the demo is stopped first (Ctrl-C). */
async function waitForRound(admin: AdminClient, roundId: string, signal?: AbortSignal) {
  for (;;) {
    const r = await admin.rounds.get.query({ roundId });
    if (r.status === 'done' || r.status === 'failed') return r;
    if (signal?.aborted) return null;
    await new Promise((res) => setTimeout(res, 200));
  }
}

const fmt = (m: Record<string, number>) =>
  Object.entries(m)
    .filter(([k]) => k !== 'loss')
    .map(([k, v]) => `${k} ${v.toFixed(3)}`)
    .join(', ');

/**
 * The whole product on one machine: a coordinator on its embedded PGlite database, the dashboard
 * (served from source by Vite's dev server, so no build step), a synthetic
 * cooperative of member shops, one real node per shop (its own store database, joined by invite
 * over HTTP on loopback), the three models trained round after round with secure aggregation and
 * evaluated through it, and the first shop's prediction API. Prints where everything is and what
 * each round achieved; stops cleanly when `signal` aborts (Ctrl-C) or after `rounds`.
 *
 * @example
 * const ctl = new AbortController();
 * process.once('SIGINT', () => ctl.abort());
 * await runDemo({ shops: 3, signal: ctl.signal });
 */
export async function runDemo(o: DemoOptions = {}): Promise<DemoSummary> {
  const print = o.print ?? ((l: string) => process.stderr.write(`${l}\n`));
  const shops = o.shops ?? 3;
  await cryptoReady();
  const { backend } = await initTf();
  const work = await mkdtemp(join(tmpdir(), 'coopfl-demo-'));
  const nodes: { node: NodeHandle; store: OpenedStore }[] = [];
  const loops: Promise<unknown>[] = [];
  const stopNodes = new AbortController();
  let running: RunningCoordinator | undefined;
  let serve: RunningServe | undefined;
  let dashboard: RunningDashboard | undefined;
  const t0 = Date.now();
  const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  try {
    running = await startCoordinator(
      loadConfig(
        {
          db: join(work, 'coordinator'),
          port: o.port ?? 8787,
          keyFile: join(work, 'coordinator.key'),
          logLevel: 'warn',
        },
        {},
      ),
    );
    const secret = new Uint8Array(12);
    systemRandom().fill(secret);
    const password = Buffer.from(secret).toString('base64url');
    await createAdmin(running.ctx, { username: 'admin', password });
    const { client: admin } = await loginAdmin(running.url, 'admin', password);
    print(`coordinator  ${running.url}  (embedded PGlite in ${join(work, 'coordinator')})`);
    print(`admin login  admin / ${password}`);
    if (o.dashboardPort !== false) {
      dashboard = await startDashboard({
        coordinatorUrl: running.url,
        port: o.dashboardPort ?? 8789,
        log: (chunk) => print(`[dashboard] ${chunk.trimEnd()}`),
      });
      print(`dashboard    ${dashboard.url}  (log in as admin with the password above)`);
    }
    print(`TF.js backend ${backend}`);

    const tables = generateCooperative({
      shops,
      seed: o.seed ?? 1,
      days: 365,
      customersPerShop: 400,
      catalogSize: 80,
      fraudRate: [0.03, 0.06],
    });
    const storeIds = storeIdsOf(tables);
    for (const [i, storeId] of storeIds.entries()) {
      const dir = join(work, `node-${i + 1}`);
      const { invite } = await admin.invites.create.mutate({ note: `demo ${storeId}` });
      const store = await openStore(MEMORY_STORE);
      const joined = await initNode({
        dir,
        coordinatorUrl: running.url,
        invite,
        name: `Demo shop ${storeId}`,
        storeDb: MEMORY_STORE,
        store,
      });
      await admin.members.approve.mutate({ memberId: joined.memberId });
      const node = await openNode(dir, { store });
      await writeCooperative(join(dir, 'csv'), shopTables(tables, storeId));
      const report = await importCanonical(node.db, join(dir, 'csv'));
      nodes.push({ node, store });
      print(
        `member ${i + 1}/${storeIds.length}  ${storeId} joined (${joined.memberId}), ${report.rowsImported} rows imported`,
      );
    }
    for (const kind of MODEL_KINDS) {
      await admin.models.create.mutate({ id: kind, kind, config: demoModelConfig(kind) });
    }
    // Every shop shares every model and KPI here; each can change that on its Consent page.
    for (const { node } of nodes) await node.consent.set({ kpis: [...KPI_IDS] });
    for (const { node } of nodes) {
      loops.push(
        node.run({ signal: stopNodes.signal, pollMs: 250, channelPollMs: 2_000 }).catch(() => 0),
      );
    }
    const first = nodes[0]!;
    serve = await startServe({
      port: o.servePort ?? 8788,
      provider: createModelProvider(first.node.db, await first.node.source(), MODEL_RUNTIMES),
      benchmarks: (period) => first.node.benchmarks(period),
      ...(dashboard ? { corsOrigin: dashboard.url } : {}),
    });
    print(`shop 1 predictions  ${serve.url}`);
    // Examples from shop 1's own data: its best-selling catalog key and its most frequent buyer.
    const own = shopTables(tables, storeIds[0]!);
    const keyOf = new Map(own.products.map((p) => [String(p.product_id), String(p.catalog_key)]));
    const top = (xs: string[]) => {
      const n = new Map<string, number>();
      for (const x of xs) n.set(x, (n.get(x) ?? 0) + 1);
      return [...n.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]![0];
    };
    const key = top(own.order_items.map((i) => keyOf.get(String(i.product_id))!));
    const customer = top(own.orders.map((r) => String(r.customer_id)));
    print(`  curl '${serve.url}/forecast?catalog_key=${key}&days=14'`);
    print(`  curl '${serve.url}/recommend?customer_id=${customer}&k=10'`);
    if (dashboard) {
      const link = await first.node.dashboardLink(dashboard.url);
      print(`shop 1 dashboard login (one use, until ${link.expiresAt})  ${link.url}`);
    }
    print('Ctrl-C stops everything.');

    const summary: Record<string, { version: number; eval: Record<string, number> | null }> = {};
    let benchmark: DemoSummary['benchmark'] = null;
    let round = 0;
    while (!o.signal?.aborted && (o.rounds === undefined || round < o.rounds)) {
      round++;
      for (const kind of MODEL_KINDS) {
        if (o.signal?.aborted) break;
        const train = await admin.rounds.start.mutate({ modelId: kind });
        const trained = await waitForRound(admin, train.roundId, o.signal);
        if (!trained) break;
        // The kind's metrics and its baselines (the dashboard draws those as reference lines).
        const ev = await admin.rounds.start.mutate({ modelId: kind, kind: 'eval' });
        const evaluated = await waitForRound(admin, ev.roundId, o.signal);
        if (!evaluated) break;
        const model = (await admin.models.list.query()).find((m) => m.id === kind)!;
        const all = (model.metrics as { eval?: Record<string, number> } | null)?.eval;
        const metrics = all
          ? Object.fromEntries(Object.entries(all).filter(([k]) => !k.includes('@')))
          : null;
        summary[kind] = { version: model.latestVersion, eval: metrics };
        print(
          `[${elapsed()}] round ${round} ${kind.padEnd(14)} ${trained.status} → v${model.latestVersion}; ` +
            (evaluated.status === 'done' && metrics
              ? `cooperative average ${fmt(metrics)}`
              : `evaluation ${evaluated.status}`),
        );
      }
      // After the first round every shop has its models' own error too: benchmark the KPIs.
      if (round === 1 && !o.signal?.aborted) {
        benchmark = await runDemoBenchmark(admin, shops, o.signal);
        if (benchmark) {
          print(
            `[${elapsed()}] benchmark ${benchmark.period}: ${benchmark.released} of ${benchmark.kpis} KPIs released` +
              (dashboard ? `; shop 1 against the cooperative at ${dashboard.url}/benchmarks` : ''),
          );
        }
      }
    }
    return {
      coordinatorUrl: running.url,
      dashboardUrl: dashboard?.url ?? null,
      serveUrl: serve.url,
      rounds: round,
      models: summary,
      benchmark,
    };
  } finally {
    await dashboard?.close();
    await serve?.close();
    stopNodes.abort();
    if (o.signal?.aborted)
      print('stopping the nodes (a round in progress ends first, at most its stage timeout)…');
    await Promise.all(loops);
    for (const { node, store } of nodes) {
      await node.close().catch(() => undefined);
      await store.close().catch(() => undefined);
    }
    await running?.close();
    await rm(work, { recursive: true, force: true });
  }
}
