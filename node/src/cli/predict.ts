import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { ModelKind } from '@coopfl/protocol/models';
import { CoopNodeError } from '../errors';
import type { ModelRuntime } from '../models/types';
import type { NodeHandle } from '../runtime/member';
import { createModelProvider } from '../runtime/serving';
import { initTf } from '../tf/backend';
import type { GlobalFlags } from './output';
import { out, readJsonInput } from './output';

type WithNode = <T>(
  cmd: Command,
  fn: (node: NodeHandle, flags: GlobalFlags) => Promise<T>,
) => Promise<T>;

/** The node's models and prediction API, loaded only by commands that need TensorFlow.js. */
async function providerOf(node: NodeHandle) {
  await initTf();
  const [{ MODEL_RUNTIMES }, serve] = await Promise.all([import('../models'), import('../serve')]);
  const runtimes = MODEL_RUNTIMES as Partial<Record<ModelKind, ModelRuntime>>;
  const provider = createModelProvider(node.db, await node.source(), runtimes, {
    ...(node.config.storeId === undefined ? {} : { storeId: node.config.storeId }),
  });
  return { provider, serve };
}

/**
 * Asks the prediction API in-process (the same code path as HTTP clients get), turning its
 * error answers into CoopNodeErrors with the API's message.
 */
async function ask(node: NodeHandle, path: string, init?: RequestInit): Promise<unknown> {
  const { provider, serve } = await providerOf(node);
  const app = serve.createServeApp({ provider });
  const res = await app.request(path, init);
  const body = (await res.json()) as { error?: { code?: string; message?: string } };
  if (!res.ok) {
    const message = body.error?.message ?? `HTTP ${res.status}`;
    if (res.status === 503) throw new CoopNodeError('NoModel', message);
    // 400 (bad flag value) and 404 (unknown catalog key or customer) are the caller's input.
    if (res.status < 500) throw new CoopNodeError('InvalidArgument', message);
    throw new Error(message);
  }
  return body;
}

/** `coopfl-node serve`: the local prediction API over HTTP. */
export function serveCommand(program: Command, withNode: WithNode): void {
  program
    .command('serve')
    .description("serve predictions and the shop's benchmarks over HTTP on this host")
    .option('--port <port>', 'TCP port (default from the node config, 8788)')
    .option('--host <host>', 'interface (default 127.0.0.1; set a token for anything else)')
    .option('--token <token>', 'require Authorization: Bearer <token> (or COOPFL_SERVE_TOKEN)')
    .option(
      '--dashboard-origin <url>',
      'browser origin allowed to read GET /benchmarks (default: the configured dashboard)',
    )
    .action(
      async (
        o: { port?: string; host?: string; token?: string; dashboardOrigin?: string },
        cmd: Command,
      ) => {
        const port = o.port === undefined ? undefined : Number(o.port);
        if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
          throw new CoopNodeError('InvalidArgument', '--port must be an integer from 0 to 65535');
        }
        let dashboardOrigin: string | undefined;
        try {
          dashboardOrigin = o.dashboardOrigin ? new URL(o.dashboardOrigin).origin : undefined;
        } catch {
          throw new CoopNodeError('InvalidArgument', '--dashboard-origin must be a URL');
        }
        await withNode(cmd, async (node, flags) => {
          const { provider, serve } = await providerOf(node);
          const token = o.token ?? process.env.COOPFL_SERVE_TOKEN;
          const running = await serve.startServe({
            provider,
            benchmarks: (period) => node.benchmarks(period),
            corsOrigin: dashboardOrigin ?? new URL(node.dashboardUrl()).origin,
            port: port ?? node.config.servePort,
            ...(o.host ? { host: o.host } : {}),
            ...(token ? { token } : {}),
          });
          out(flags, `predictions at ${running.url}`, { url: running.url });
          await new Promise<void>((resolve) => {
            process.once('SIGINT', resolve);
            process.once('SIGTERM', resolve);
          });
          await running.close();
        });
      },
    );
}

/** `forecast`, `recommend` and `fraud-score`: one prediction, printed. */
export function predictCommand(
  program: Command,
  withNode: WithNode,
  positiveInt: (name: string) => (v: string) => number,
): void {
  program
    .command('forecast')
    .description('daily units for a catalog key over the next days')
    .requiredOption('--catalog-key <key>')
    .option('--days <n>', 'horizon in days (1–28)', positiveInt('--days'), 14)
    .action(async (o: { catalogKey: string; days: number }, cmd: Command) => {
      if (o.days > 28) throw new InvalidArgumentError('--days must be at most 28');
      await withNode(cmd, async (node, flags) => {
        const q = new URLSearchParams({ catalog_key: o.catalogKey, days: String(o.days) });
        const r = (await ask(node, `/forecast?${q.toString()}`)) as {
          from: string;
          units: number[];
        };
        out(
          flags,
          r.units.map((u, i) => `day ${i + 1}\t${u.toFixed(2)}`).join('\n') + `\n(from ${r.from})`,
          r,
        );
      });
    });
  program
    .command('recommend')
    .description("top-k catalog keys for a customer's next purchase")
    .requiredOption('--customer <id>')
    .option('--k <n>', 'how many (1–100)', positiveInt('--k'), 10)
    .action(async (o: { customer: string; k: number }, cmd: Command) => {
      if (o.k > 100) throw new InvalidArgumentError('--k must be at most 100');
      await withNode(cmd, async (node, flags) => {
        const q = new URLSearchParams({ customer_id: o.customer, k: String(o.k) });
        const r = (await ask(node, `/recommend?${q.toString()}`)) as {
          items: { catalogKey: string; score: number }[];
        };
        out(
          flags,
          r.items.map((it, i) => `${i + 1}\t${it.catalogKey}\t${it.score.toFixed(4)}`).join('\n'),
          r,
        );
      });
    });
  program
    .command('fraud-score')
    .description('probability that an order (JSON, file or - for stdin) is fraudulent')
    .requiredOption('--order <file|->')
    .action(async (o: { order: string }, cmd: Command) => {
      const order = await readJsonInput(o.order).catch((err: unknown) => {
        if (err instanceof CoopNodeError) throw err;
        throw new CoopNodeError('InvalidArgument', `cannot read --order ${o.order}`);
      });
      await withNode(cmd, async (node, flags) => {
        const r = (await ask(node, '/fraud/score', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(order),
        })) as { score: number };
        out(flags, `fraud score ${r.score.toFixed(4)}`, r);
      });
    });
}
