import type { MessagePort } from 'node:worker_threads';
import { parentPort, workerData } from 'node:worker_threads';
import { cryptoReady } from '@coopfl/protocol';
import { initTf } from '@coopfl/node';
import type { HostSettings } from './host';
import { InProcessHost } from './in-process';
import { portTransport } from './port-transport';
import type { HostOp, HostReply, HostRequest, HostStarted } from './rpc';
import { dispatcher, transferables } from './rpc';

/** What `WorkerHost.start` hands the worker. */
export interface WorkerData {
  readonly settings: HostSettings;
  /** The in-memory transport's port (see `portTransport`); absent: HTTP. */
  readonly port?: MessagePort;
}

const failure = (err: unknown) => ({
  message: err instanceof Error ? err.message : String(err),
  ...(err instanceof Error && err.stack ? { stack: err.stack } : {}),
});

const parent = parentPort!;
try {
  const data = workerData as WorkerData;
  await cryptoReady();
  await initTf({ log: () => undefined });
  const host = new InProcessHost({
    ...data.settings,
    ...(data.port ? { transport: portTransport(data.port) } : {}),
  });
  const ops = dispatcher(host);
  parent.on('message', (req: HostRequest) => {
    const tick = () => parent.postMessage({ id: req.id, type: 'tick' } satisfies HostReply);
    const call = ops[req.op] as (input: unknown, tick: () => void) => Promise<unknown>;
    call(req.input, tick).then(
      (value) => {
        const transfer = req.op === ('trainingData' satisfies HostOp) ? transferables(value) : [];
        parent.postMessage({ id: req.id, type: 'done', value } satisfies HostReply, transfer);
      },
      (err: unknown) =>
        parent.postMessage({ id: req.id, type: 'failed', ...failure(err) } satisfies HostReply),
    );
  });
  parent.postMessage({ type: 'ready' } satisfies HostStarted);
} catch (err) {
  parent.postMessage({ type: 'failed', ...failure(err) } satisfies HostStarted);
}
