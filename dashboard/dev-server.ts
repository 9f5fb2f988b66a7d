import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(fileURLToPath(import.meta.url));

/** A running dashboard. */
export interface RunningDashboard {
  readonly url: string;
  /** Stops the dashboard's process and waits for it to exit. */
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, '127.0.0.1', resolve);
  });
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/**
 * Serves the dashboard from source with Vite's dev server in a child process (no build step, so
 * `pnpm demo` works on a fresh clone right after `pnpm install`), on 127.0.0.1, talking to the
 * coordinator at `coordinatorUrl` (passed as `COOPFL_COORDINATOR_URL`). Resolves once a page
 * answers; rejects after `timeoutMs` or if the process exits first.
 *
 * @example
 * const dash = await startDashboard({ coordinatorUrl: running.url, port: 5173 });
 * console.log(dash.url); // http://127.0.0.1:5173
 * await dash.close();
 */
export async function startDashboard(o: {
  coordinatorUrl: string;
  /** 0 or absent: any free port. */
  port?: number;
  timeoutMs?: number;
  /** Where the dashboard's own warnings go (default: this process's stderr). */
  log?: (chunk: string) => void;
}): Promise<RunningDashboard> {
  const port = o.port ? o.port : await freePort();
  const vite = join(
    dirname(createRequire(import.meta.url).resolve('vite/package.json')),
    'bin/vite.js',
  );
  const child = spawn(
    process.execPath,
    [
      vite,
      'dev',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--strictPort',
      '--logLevel',
      'warn',
    ],
    {
      cwd: ROOT,
      env: { ...process.env, COOPFL_COORDINATOR_URL: o.coordinatorUrl, BROWSER: 'none' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const log = o.log ?? ((c: string) => process.stderr.write(c));
  child.stdout.setEncoding('utf8').on('data', (c: string) => log(c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => log(c));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  // Never leave the dev server behind when this process ends without closing it.
  const orphan = () => child.kill('SIGTERM');
  process.once('exit', orphan);
  void exited.then(() => process.off('exit', orphan));
  const url = `http://127.0.0.1:${port}`;
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  let gone = false;
  void exited.then(() => (gone = true));
  for (;;) {
    if (gone) throw new Error(`the dashboard process exited before serving ${url}`);
    const ok = await fetch(`${url}/login`, { signal: AbortSignal.timeout(5_000) })
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) return { url, close };
    if (Date.now() > deadline) {
      await close();
      throw new Error(`the dashboard did not answer on ${url} within ${o.timeoutMs ?? 60_000} ms`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
