import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { cryptoReady, systemRandom } from '@coopfl/protocol';
import type { CoordinatorConfig } from './config';
import type { CoordinatorContext } from './context';
import { openDatabase } from './db';
import { createApp } from './http/app';
import { loadOrCreateKey } from './keys';
import { createLogger, createMetrics } from './observability';
import { RoundHost } from './rounds/host';
import { listModels } from './services/models';
import { pruneNonces } from './services/node-auth';
import { scheduleTick } from './services/schedule';
import { benchmarkScheduleTick } from './services/benchmarks';

export interface RunningCoordinator {
  url: string;
  /** Answers a request in-process, exactly as over HTTP (the simulator's in-memory transport). */
  fetch(url: URL, init: RequestInit): Promise<Response>;
  ctx: CoordinatorContext;
  rounds: RoundHost;
  close(): Promise<void>;
}

/** Opens the database (migrating it), resumes in-flight rounds, and serves HTTP. */
export async function startCoordinator(config: CoordinatorConfig): Promise<RunningCoordinator> {
  await cryptoReady();
  const log = createLogger(config.logLevel);
  const opened = await openDatabase(config.db);
  const ctx: CoordinatorContext = {
    db: opened.db,
    config,
    key: await loadOrCreateKey(config.keyFile),
    log,
    metrics: createMetrics(),
    random: systemRandom(),
    now: () => new Date(),
  };
  const rounds = new RoundHost(ctx);
  const resumed = await rounds.resumeAll();
  const app = createApp(ctx, rounds);
  const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host}:${port}`;
  log.info({ url, db: opened.kind, resumed }, 'coordinator listening');

  const housekeeping = setInterval(() => void pruneNonces(ctx).catch(() => undefined), 60_000);
  housekeeping.unref();
  // Rounds started by the CLI or another coordinator sharing the database get hosted here too.
  const sweep = setInterval(() => void rounds.sweep().catch(() => undefined), 2_000);
  sweep.unref();
  const schedule =
    config.scheduleMinutes > 0
      ? setInterval(() => {
          void (async () => {
            for (const m of await listModels(ctx)) {
              await rounds.start({ modelId: m.id, actor: 'schedule' }).catch((err: unknown) => {
                log.warn(
                  { model: m.id, reason: (err as Error).message },
                  'scheduled round not started',
                );
              });
            }
          })();
        }, config.scheduleMinutes * 60_000)
      : undefined;
  schedule?.unref();
  // The schedule an admin sets in the dashboard (stored in the database, so every coordinator
  // sharing it sees the same; a round already in progress is never doubled).
  const dashboardSchedule = setInterval(() => {
    void scheduleTick(ctx, (input) => rounds.start(input)).catch(() => undefined);
    // The monthly benchmark (benchmark settings' `monthlyOnDay`).
    void benchmarkScheduleTick(ctx, (input) => rounds.startBenchmark(input, 'schedule')).catch(
      () => undefined,
    );
  }, 15_000);
  dashboardSchedule.unref();

  return {
    url,
    fetch: async (u, init) => app.fetch(new Request(u, init)),
    ctx,
    rounds,
    close: async () => {
      clearInterval(housekeeping);
      clearInterval(sweep);
      clearInterval(schedule);
      clearInterval(dashboardSchedule);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rounds.close();
      await opened.close();
    },
  };
}
