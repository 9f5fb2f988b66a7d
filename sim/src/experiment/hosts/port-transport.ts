import type { MessagePort } from 'node:worker_threads';
import type { Transport } from '@coopfl/coordinator/client';

/** A request as it crosses the port: the parts of a `Request` a coordinator route reads. */
interface PortRequest {
  readonly id: number;
  readonly url: string;
  readonly method: string;
  readonly headers: [string, string][];
  readonly body: ArrayBuffer | null;
}

type PortResponse =
  | {
      readonly id: number;
      readonly status: number;
      readonly statusText: string;
      readonly headers: [string, string][];
      readonly body: ArrayBuffer;
    }
  | { readonly id: number; readonly error: string };

/** Statuses whose response must not have a body (the Fetch standard's null body statuses). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * A node {@link Transport} for a worker thread that sends each request over `port` to the thread
 * holding the coordinator, which answers it with its own request handler (see
 * {@link servePortTransport}): the same routes, signatures and codecs as over HTTP, no sockets.
 * Bodies cross as transferred `ArrayBuffer`s. Abort signals are not carried (the node client sets
 * none; a long poll ends by its own `wait`).
 *
 * @example
 * const node = await openNode(dir, { transport: portTransport(workerData.port) });
 */
export function portTransport(port: MessagePort): Transport {
  let next = 0;
  const pending = new Map<number, { resolve: (r: Response) => void; reject: (e: Error) => void }>();
  port.on('message', (m: PortResponse) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if ('error' in m) p.reject(new TypeError(`fetch failed: ${m.error}`));
    else {
      p.resolve(
        new Response(NULL_BODY.has(m.status) ? null : m.body, {
          status: m.status,
          statusText: m.statusText,
          headers: m.headers,
        }),
      );
    }
  });
  return async (url, init) => {
    const req = new Request(url, init);
    const body = req.body ? await req.arrayBuffer() : null;
    const id = ++next;
    const msg: PortRequest = {
      id,
      url: req.url,
      method: req.method,
      headers: [...req.headers],
      body,
    };
    return new Promise<Response>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      port.postMessage(msg, body ? [body] : []);
    });
  };
}

/**
 * Answers the requests of a {@link portTransport} on the other end of `port` with `fetch` (the
 * coordinator's in-process handler, `RunningCoordinator.fetch`). An exception becomes a network
 * error on the node's side, as a dropped connection would.
 *
 * @example
 * servePortTransport(channel.port1, (u, init) => coordinator.fetch(u, init));
 */
export function servePortTransport(port: MessagePort, fetch: Transport): void {
  port.on('message', (m: PortRequest) => {
    void (async () => {
      let reply: PortResponse;
      let transfer: ArrayBuffer[] = [];
      try {
        const res = await fetch(new URL(m.url), {
          method: m.method,
          headers: m.headers,
          ...(m.body ? { body: m.body } : {}),
        });
        const body = await res.arrayBuffer();
        reply = {
          id: m.id,
          status: res.status,
          statusText: res.statusText,
          headers: [...res.headers],
          body,
        };
        transfer = [body];
      } catch (err) {
        reply = { id: m.id, error: err instanceof Error ? err.message : String(err) };
      }
      port.postMessage(reply, transfer);
    })();
  });
}
