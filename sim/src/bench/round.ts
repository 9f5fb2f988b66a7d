import { cryptoReady, identityKeyPair, randomUnit, seededRandom } from '@coopfl/protocol';
import { createClient, runClient } from '@coopfl/protocol/secagg';
import { NodeClient, loginAdmin, secAggConfigOf } from '@coopfl/coordinator/client';
import { createTemporaryDatabase } from '@coopfl/coordinator/db';
import { medianOf } from '../experiment/arms';
import { startCoordinatorProcess } from './coordinator-process';

export interface RoundBenchOptions {
  /** Coordinator database: `memory://` (embedded PGlite) or a PostgreSQL URL. */
  db: string;
  clients: number;
  params: number;
  dropout: number;
  seed: number;
  /**
   * Rounds run first, unmeasured, by the same coordinator process and members (default 1). The
   * first of them is a fresh coordinator's first round, which includes V8 compiling the round's
   * code paths — its JavaScript and PGlite's WebAssembly — once per process: it is reported apart,
   * as `first_round`. 0 measures from the first round.
   */
  warmup?: number;
  /** Rounds measured after the warm-up (default 3); the headline figures are their medians. */
  repeat?: number;
  onProgress?: (label: string, done: number, total: number) => void;
}

/** One round's figures. */
export interface RoundFigures {
  /** Wall time from the admin's start request to the released model version. */
  round_wall_ms: number;
  /** Σ of the clients' own secure-aggregation compute (they share this process's thread). */
  client_compute_ms: number;
  /**
   * How long the members' one thread was busy until every member was done: their secure
   * aggregation plus what each member's node does anyway for a round — sign its requests, hash
   * and send its bodies, decode the weights and answers.
   */
  client_thread_busy_ms: number;
  /**
   * Coordinator-side time beyond the clients' own compute: `round_wall_ms −
   * client_thread_busy_ms`, the time the round takes on top of the members' own work (which, on
   * real members' machines, would run in parallel).
   */
  coordinator_overhead_ms: number;
  /**
   * CPU time of the coordinator process during the round (its own process, read from its
   * Prometheus metrics): HTTP, authentication, the protocol server, database client work, weights
   * served. With PostgreSQL, the database server's own CPU is not included.
   */
  coordinator_cpu_ms: number;
  /** Of which the coordinator's event loop (its one JavaScript thread) was busy. */
  coordinator_event_loop_ms: number;
}

export interface RoundBenchResult extends RoundFigures {
  bench: 'round';
  clients: number;
  params: number;
  dropout: number;
  /** Unmeasured rounds run before the measured ones in the same coordinator process. */
  warmup_rounds: number;
  /** The measured rounds' figures; the headline figures are their medians. */
  rounds: RoundFigures[];
  /** A fresh coordinator process's first round (when there was a warm-up). */
  first_round?: RoundFigures;
  transport: 'http-loopback';
  database: 'pglite' | 'postgres';
  bytes_up_total: number;
  /** The model version the last measured round released. */
  released_version: number;
  node: string;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * One full training round over real HTTP on loopback: a real `coopfl-coordinator serve` process
 * (PGlite in a temporary directory, or a throw-away PostgreSQL database) and n member nodes in this
 * process that fetch their signed task and weights and run secure aggregation through the
 * coordinator's binary routes. Reports, as the median of the measured rounds (and each of them),
 * the round's wall time, the members' own secure-aggregation compute and thread busy time, the
 * coordinator-side time beyond the latter and the coordinator process's CPU time; and a fresh coordinator's first round apart.
 */
export async function benchRound(o: RoundBenchOptions): Promise<RoundBenchResult> {
  await cryptoReady();
  const temporary = o.db.startsWith('postgres') ? await createTemporaryDatabase(o.db) : undefined;
  const coordinator = await startCoordinatorProcess({
    ...(temporary ? { db: temporary.url } : {}),
    admin: { username: 'bench', password: 'bench-password-1' },
  });
  const running = { url: coordinator.url };
  try {
    const { client: admin } = await loginAdmin(running.url, 'bench', 'bench-password-1');
    const nodes: BenchNode[] = [];
    for (let i = 0; i < o.clients; i++) {
      const { invite } = await admin.invites.create.mutate({});
      const identity = identityKeyPair();
      const j = await NodeClient.join(running.url, { invite, name: `bench-${i}`, identity });
      nodes.push({
        identity,
        client: new NodeClient({
          url: running.url,
          memberId: j.memberId,
          identity,
          coordinatorKey: j.coordinatorKey,
        }),
      });
      o.onProgress?.('joining', i + 1, o.clients);
    }
    await admin.models.create.mutate({
      id: 'bench',
      kind: 'bench',
      dim: o.params,
      config: { stageTimeoutMs: o.dropout > 0 ? 2_000 : 120_000 },
    });
    const rng = seededRandom(o.seed);
    const dropping = new Set<number>();
    while (dropping.size < Math.round(o.dropout * o.clients))
      dropping.add(Math.floor(randomUnit(rng) * o.clients));
    const updates = nodes.map(() =>
      Float32Array.from({ length: o.params }, () => 2 * randomUnit(rng) - 1),
    );
    const warmup = o.warmup ?? 1;
    const repeat = o.repeat ?? 3;
    const measure = async (progress?: (done: number) => void) => {
      const before = await coordinator.usage();
      const m = await oneRound(admin, nodes, updates, dropping, progress);
      const after = await coordinator.usage();
      if (m.status.status === 'failed') throw new Error(`bench round failed: ${m.status.error}`);
      const figures: RoundFigures = {
        round_wall_ms: round2(m.wall),
        client_compute_ms: round2(m.compute),
        client_thread_busy_ms: round2(m.busy),
        coordinator_overhead_ms: round2(m.wall - m.busy),
        coordinator_cpu_ms: round2((after.cpu - before.cpu) * 1000),
        coordinator_event_loop_ms: round2((after.eventLoop - before.eventLoop) * 1000),
      };
      return { figures, up: m.up, version: m.status.resultVersion! };
    };
    let first: RoundFigures | undefined;
    for (let r = 0; r < warmup; r++) {
      const { figures } = await measure();
      first ??= figures;
      o.onProgress?.('warm-up rounds', r + 1, warmup);
    }
    const measured: Awaited<ReturnType<typeof measure>>[] = [];
    for (let r = 0; r < repeat; r++) {
      measured.push(
        await measure((done) => o.onProgress?.(`round ${r + 1}/${repeat}`, done, o.clients)),
      );
    }
    const rounds = measured.map((m) => m.figures);
    const med = (k: keyof RoundFigures) => round2(medianOf(rounds.map((f) => f[k]))!);
    const last = measured[measured.length - 1]!;
    return {
      bench: 'round',
      clients: o.clients,
      params: o.params,
      dropout: o.dropout,
      warmup_rounds: warmup,
      transport: 'http-loopback',
      database: temporary ? 'postgres' : 'pglite',
      round_wall_ms: med('round_wall_ms'),
      client_compute_ms: med('client_compute_ms'),
      client_thread_busy_ms: med('client_thread_busy_ms'),
      coordinator_overhead_ms: med('coordinator_overhead_ms'),
      coordinator_cpu_ms: med('coordinator_cpu_ms'),
      coordinator_event_loop_ms: med('coordinator_event_loop_ms'),
      rounds,
      ...(first ? { first_round: first } : {}),
      bytes_up_total: last.up,
      released_version: last.version,
      node: process.version,
    };
  } finally {
    await coordinator.stop();
    await temporary?.drop();
  }
}

type Admin = Awaited<ReturnType<typeof loginAdmin>>['client'];
interface BenchNode {
  client: NodeClient;
  identity: ReturnType<typeof identityKeyPair>;
}

/**
 * One training round of model `bench`: the admin starts it, every member fetches its signed task
 * and the base weights and runs secure aggregation (the `dropping` members vanish before their
 * masked input); resolves once the round is released, with its wall time from the start request,
 * the members' own secure-aggregation compute and the bytes they sent.
 */
async function oneRound(
  admin: Admin,
  nodes: BenchNode[],
  updates: Float32Array[],
  dropping: ReadonlySet<number>,
  onFinished?: (done: number) => void,
) {
  let compute = 0;
  let up = 0;
  let finished = 0;
  const t0 = performance.now();
  const elu0 = performance.eventLoopUtilization();
  const { roundId } = await admin.rounds.start.mutate({ modelId: 'bench' });
  await Promise.all(
    nodes.map(async (node, i) => {
      const { tasks } = await node.client.tasks();
      const task = tasks.find((t) => t.round.roundId === roundId)!;
      await node.client.weights('bench', task.round.baseVersion);
      const channel = node.client.channel(roundId, { pollMs: 5_000 });
      let sent = 0;
      const counting = {
        send: (from: number, bytes: Uint8Array) => {
          up += bytes.length;
          // A dropping member vanishes before its masked input (its third message).
          return ++sent === 3 && dropping.has(i)
            ? new Promise<void>(() => undefined)
            : channel.send(from, bytes);
        },
        receive: (to: number) => channel.receive(to),
      };
      const client = createClient({
        config: secAggConfigOf(task.round),
        index: task.clientIndex,
        identity: node.identity,
        input: { vector: updates[i]! },
      });
      const done = runClient(counting, client, { onCompute: (ms) => (compute += ms) });
      if (!dropping.has(i)) await done;
      onFinished?.(++finished);
    }),
  );
  // Until here this thread did the members' work (the admin's start request aside); from here it
  // only waits for the release.
  const busy = performance.eventLoopUtilization(elu0).active;
  let status = await admin.rounds.list.query({ modelId: 'bench', limit: 1 });
  while (
    status[0]?.id !== roundId ||
    (status[0].status !== 'done' && status[0].status !== 'failed')
  ) {
    await new Promise((r) => setTimeout(r, 5));
    status = await admin.rounds.list.query({ modelId: 'bench', limit: 1 });
  }
  return { wall: performance.now() - t0, compute, busy, up, status: status[0] };
}
