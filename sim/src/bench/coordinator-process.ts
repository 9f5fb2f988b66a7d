import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * A coordinator in its own process (the real `coopfl-coordinator serve`), so that its CPU time can
 * be read apart from the simulated members' from its Prometheus metrics.
 */
export interface CoordinatorProcess {
  url: string;
  /** CPU seconds the process has used (all threads) and its event loop's busy seconds. */
  usage(): Promise<{ cpu: number; eventLoop: number }>;
  stop(): Promise<void>;
}

function run(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  // COOPFL_BENCH_CPU_PROF=DIR writes a V8 CPU profile of the coordinator (open in Chrome DevTools).
  const prof = process.env.COOPFL_BENCH_CPU_PROF;
  const flags = prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [];
  return spawn(process.execPath, [...flags, '--import', 'tsx', 'coordinator/src/cli.ts', ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export async function startCoordinatorProcess(opts: {
  db?: string;
  admin: { username: string; password: string };
}): Promise<CoordinatorProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'coopfl-bench-'));
  const db = opts.db ?? join(dir, 'db');
  const common = ['--db', db, '--key-file', join(dir, 'key')];
  const env = { COOPFL_AUTH_RATE_PER_MINUTE: '100000', COOPFL_LOG_LEVEL: 'warn' };
  await new Promise<void>((resolve, reject) => {
    const p = run(
      [
        ...common,
        'admin',
        'create',
        '--username',
        opts.admin.username,
        '--password',
        opts.admin.password,
      ],
      env,
    );
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`admin create failed: ${err}`)),
    );
  });
  const child = run([...common, 'serve', '--port', '0', '--auto-approve', '--json'], env);
  const url = await new Promise<string>((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      const m = /"url":"([^"]+)"/.exec(d.toString());
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`coordinator exited (${code}): ${err}`)));
  });
  return {
    url,
    usage: async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      const read = (name: string) => {
        const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
        if (!m) throw new Error(`the coordinator does not report ${name}`);
        return Number(m[1]);
      };
      return {
        cpu: read('coopfl_process_cpu_seconds_total'),
        eventLoop: read('coopfl_event_loop_active_seconds'),
      };
    },
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
