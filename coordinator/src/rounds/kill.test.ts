import type { QuantizationParams } from '@coopfl/protocol/secagg';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cryptoReady, randomUnit, seededRandom } from '@coopfl/protocol';
import type { RoundChannel } from '@coopfl/protocol/secagg';
import { quantizationBound } from '@coopfl/protocol/secagg';
import { secAggConfigOf } from '../client';
import { bootstrapFleet, takePart, waitForRound } from '../testing/fleet';
import { describeTargets } from '../testing/targets';

beforeAll(cryptoReady);

const root = fileURLToPath(new URL('../../..', import.meta.url));
const N = 6;
const DIM = 200;

function cli(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'coordinator/src/cli.ts', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs a CLI command to completion; rejects with its stderr on failure. */
function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = cli(args);
    let out = '';
    let err = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`))));
  });
}

/** Starts `serve` and resolves once it listens. */
function serve(args: string[]): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const p = cli(['serve', '--json', '--log-level', 'warn', ...args]);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    p.stdout!.on('data', (d: Buffer) => (d.toString().includes('"url"') ? resolve(p) : undefined));
    p.on('exit', (code) => reject(new Error(`coordinator exited (${code}): ${err}`)));
  });
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

describeTargets('coordinator restart mid-round', (fresh) => {
  const children: ChildProcess[] = [];
  afterAll(() => children.forEach((c) => c.kill('SIGKILL')));

  it('a coordinator stopped between the masked-input and unmask stages resumes the round', async () => {
    const db = await fresh();
    const signal = db.startsWith('postgres') ? 'SIGKILL' : 'SIGTERM'; // PGlite files need an orderly close
    const keyFile = join(await mkdtemp(join(tmpdir(), 'coopfl-key-')), 'coordinator.key');
    const common = ['--db', db, '--key-file', keyFile];
    await run([
      ...common,
      'admin',
      'create',
      '--username',
      'root',
      '--password',
      'correct horse battery',
    ]);
    const port = await freePort();
    let child = await serve([...common, '--port', String(port)]);
    children.push(child);
    const url = `http://127.0.0.1:${port}`;
    const { admin, nodes } = await bootstrapFleet({ url }, N, { retry: { maxWaitMs: 60_000 } });
    await admin.models.create.mutate({
      id: 'm',
      kind: 'test',
      dim: DIM,
      config: { stageTimeoutMs: 60_000 },
    });
    const { roundId } = await admin.rounds.start.mutate({ modelId: 'm' });

    // Hold every client before it fetches the unmask request, until the coordinator has restarted
    // (from the restarted one: not streamed in with the masked input's answer).
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const gated = (c: (typeof nodes)[number]['client'], id: string): RoundChannel => {
      const inner = c.channel(id, { pollMs: 1_000, prefetch: false });
      let received = 0;
      return {
        send: (from, bytes) => inner.send(from, bytes),
        receive: async (to) =>
          ++received === 3 ? gate.then(() => inner.receive(to)) : inner.receive(to),
      };
    };
    const rng = seededRandom(42);
    const deltas = nodes.map(() =>
      Float64Array.from({ length: DIM }, () => 2 * randomUnit(rng) - 1),
    );
    let quant: QuantizationParams | undefined;
    const clients = nodes.map((node, i) =>
      takePart(
        node,
        roundId,
        (_g, task) => {
          quant = secAggConfigOf(task).quant;
          return { vector: deltas[i]! };
        },
        gated,
      ),
    );
    // Wait until every masked input is in (the stage closed), then stop the process.
    for (
      let r = await admin.rounds.get.query({ roundId });
      r.status !== 'unmask';
      r = await admin.rounds.get.query({ roundId })
    ) {
      await new Promise((res) => setTimeout(res, 50));
    }
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
    child = await serve([...common, '--port', String(port)]);
    children.push(child);
    release();
    await Promise.all(clients);
    const done = await waitForRound(admin, roundId);
    expect(done.status).toBe('done');
    const next = await nodes[0]!.client.weights('m', done.resultVersion!);
    const bound = quantizationBound(quant!, N) / N + 1e-6;
    for (let j = 0; j < DIM; j++) {
      const mean = deltas.reduce((s, d) => s + d[j]!, 0) / N;
      expect(Math.abs(next[j]! - mean)).toBeLessThanOrEqual(bound);
    }
  }, 180_000);
});
