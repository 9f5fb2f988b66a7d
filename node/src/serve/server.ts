import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createServeApp } from './app';
import type { ServeAppOptions } from './app';

/** Options of {@link startServe}: the app's options plus where to listen. */
export interface StartServeOptions extends ServeAppOptions {
  /** TCP port; 0 picks a free one (tests). */
  readonly port: number;
  /**
   * Interface to bind. Default `127.0.0.1`: the API is for the shop's own systems on this host.
   * Binding anything else exposes predictions about the shop's customers: set a `token` then.
   */
  readonly host?: string;
}

/** A listening prediction API. */
export interface RunningServe {
  /** Base URL, e.g. `http://127.0.0.1:8790` (with the actual port when 0 was asked). */
  readonly url: string;
  /** Stops accepting connections and resolves once open ones are closed. */
  close(): Promise<void>;
}

/**
 * Serves {@link createServeApp} over HTTP on `host:port` (Node's http server via
 * `@hono/node-server`) and resolves once it listens.
 *
 * @example
 * const api = await startServe({ port: 8790, provider, token: env.SERVE_TOKEN });
 * console.error(`predictions at ${api.url}`);
 * process.once('SIGTERM', () => void api.close());
 */
export async function startServe(opts: StartServeOptions): Promise<RunningServe> {
  const host = opts.host ?? '127.0.0.1';
  const app = createServeApp(opts);
  const server = serve({ fetch: app.fetch, hostname: host, port: opts.port });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  opts.log?.info({ url }, 'prediction API listening');
  return {
    url,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        if ('closeIdleConnections' in server) server.closeIdleConnections();
      }),
  };
}
