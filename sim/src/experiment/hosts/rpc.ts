import type { NodeHost, Tick } from './host';

/** The operations of a {@link NodeHost}, by name. */
export type HostOp = keyof NodeHost;
export type HostInput<K extends HostOp> = Parameters<NodeHost[K]>[0];
export type HostOutput<K extends HostOp> = Awaited<ReturnType<NodeHost[K]>>;

/** A call from the main thread to the worker's host. */
export interface HostRequest {
  readonly id: number;
  readonly op: HostOp;
  readonly input: unknown;
}

/** The worker's answers: progress ticks, then a result or a failure. */
export type HostReply =
  | { readonly id: number; readonly type: 'tick' }
  | { readonly id: number; readonly type: 'done'; readonly value: unknown }
  | {
      readonly id: number;
      readonly type: 'failed';
      readonly message: string;
      readonly stack?: string;
    };

/** What the worker says once it can take calls (or why it cannot). */
export type HostStarted =
  | { readonly type: 'ready' }
  | { readonly type: 'failed'; readonly message: string; readonly stack?: string };

/** Each operation of `host`, as the worker calls it for a request. */
export function dispatcher(host: NodeHost): {
  [K in HostOp]: (input: HostInput<K>, tick: Tick) => Promise<HostOutput<K>>;
} {
  return {
    open: (i, t) => host.open(i, t),
    prepare: (i, t) => host.prepare(i, t),
    runRound: (i) => host.runRound(i),
    evaluate: (i) => host.evaluate(i),
    train: (i, t) => host.train(i, t),
    baselines: (i) => host.baselines(i),
    trainingData: async (i) => {
      // The host keeps using its data: the worker hands over one copy and transfers it (one copy
      // in all, instead of one on each side of the message).
      const copy = structuredClone(await host.trainingData(i));
      return copy;
    },
    close: () => host.close(),
  };
}

/** The `ArrayBuffer`s under `value`'s typed arrays (to transfer rather than copy). */
export function transferables(value: unknown, out = new Set<ArrayBuffer>()): ArrayBuffer[] {
  if (ArrayBuffer.isView(value)) {
    if (value.buffer instanceof ArrayBuffer) out.add(value.buffer);
  } else if (value instanceof Map) {
    for (const [k, v] of value) {
      transferables(k, out);
      transferables(v, out);
    }
  } else if (value instanceof Set) {
    for (const v of value) transferables(v, out);
  } else if (Array.isArray(value)) {
    for (const v of value) transferables(v, out);
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) transferables(v, out);
  }
  return [...out];
}
