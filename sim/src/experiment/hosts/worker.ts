import { MessageChannel, Worker } from 'node:worker_threads';
import type { Transport } from '@coopfl/coordinator/client';
import type { HostSettings, NodeHost, Tick } from './host';
import { servePortTransport } from './port-transport';
import type { HostInput, HostOp, HostOutput, HostReply, HostRequest, HostStarted } from './rpc';
import type { WorkerData } from './worker-main';

const ENTRY = new URL('./worker-entry.mjs', import.meta.url);

/**
 * A {@link NodeHost} in a worker thread: the worker runs an `InProcessHost` for its share of the
 * nodes, and each call crosses as a message (typed arrays as structured clones; the pooled
 * training data transferred). The nodes reach the coordinator over HTTP, or, given `fetch` (the
 * coordinator's own request handler), through a `MessagePort` to this thread (no sockets).
 *
 * @example
 * const host = await WorkerHost.start({ seed, coordinatorUrl, storeTemplate });
 * try { await host.open({ specs }); } finally { await host.close(); }
 */
export class WorkerHost implements NodeHost {
  readonly #worker: Worker;
  readonly #closePort: () => void;
  readonly #pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; tick?: Tick }
  >();
  #next = 0;
  #dead: Error | undefined;

  private constructor(worker: Worker, closePort: () => void) {
    this.#worker = worker;
    this.#closePort = closePort;
    worker.on('message', (m: HostReply) => {
      const p = this.#pending.get(m.id);
      if (!p) return;
      if (m.type === 'tick') return p.tick?.();
      this.#pending.delete(m.id);
      if (m.type === 'done') p.resolve(m.value);
      else p.reject(Object.assign(new Error(m.message), m.stack ? { stack: m.stack } : {}));
    });
    const die = (err: Error) => {
      this.#dead ??= err;
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    };
    worker.on('error', die);
    worker.on('exit', (code) => die(new Error(`the node host's worker exited (code ${code})`)));
  }

  /**
   * Starts a worker and waits until it can take calls (TensorFlow.js and crypto initialised).
   * `fetch`: the coordinator's in-process handler for the in-memory transport; absent: HTTP.
   */
  static async start(settings: HostSettings, o: { fetch?: Transport } = {}): Promise<WorkerHost> {
    const channel = o.fetch ? new MessageChannel() : undefined;
    const data: WorkerData = { settings, ...(channel ? { port: channel.port2 } : {}) };
    const worker = new Worker(ENTRY, {
      workerData: data,
      transferList: channel ? [channel.port2] : [],
    });
    if (channel && o.fetch) servePortTransport(channel.port1, o.fetch);
    try {
      await new Promise<void>((resolve, reject) => {
        const onMessage = (m: HostStarted) => {
          worker.off('error', reject);
          if (m.type === 'ready') resolve();
          else reject(Object.assign(new Error(m.message), m.stack ? { stack: m.stack } : {}));
        };
        worker.once('message', onMessage);
        worker.once('error', reject);
      });
    } catch (err) {
      channel?.port1.close();
      await worker.terminate();
      throw err;
    }
    return new WorkerHost(worker, () => channel?.port1.close());
  }

  open(input: HostInput<'open'>, tick?: Tick) {
    return this.#call('open', input, tick);
  }
  prepare(input: HostInput<'prepare'>, tick?: Tick) {
    return this.#call('prepare', input, tick);
  }
  runRound(input: HostInput<'runRound'>) {
    return this.#call('runRound', input);
  }
  evaluate(input: HostInput<'evaluate'>) {
    return this.#call('evaluate', input);
  }
  train(input: HostInput<'train'>, tick?: Tick) {
    return this.#call('train', input, tick);
  }
  baselines(input: HostInput<'baselines'>) {
    return this.#call('baselines', input);
  }
  trainingData(input: HostInput<'trainingData'>) {
    return this.#call('trainingData', input);
  }

  /** Closes the worker's nodes and stores, then ends the worker. */
  async close(): Promise<void> {
    try {
      if (!this.#dead) await this.#call('close', undefined);
    } finally {
      this.#closePort();
      await this.#worker.terminate();
    }
  }

  #call<K extends HostOp>(op: K, input: HostInput<K>, tick?: Tick): Promise<HostOutput<K>> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = ++this.#next;
    return new Promise<HostOutput<K>>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, tick });
      this.#worker.postMessage({ id, op, input } satisfies HostRequest);
    });
  }
}
