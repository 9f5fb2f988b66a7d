import { createTRPCClient, httpLink } from '@trpc/client';
import type { KeyPair, RandomSource } from '@coopfl/protocol';
import {
  bytesEqual,
  randomUnit,
  sha256,
  sign,
  signRequest,
  systemRandom,
  verify,
} from '@coopfl/protocol';
import type { RoundChannel } from '@coopfl/protocol/secagg';
import type { AppRouter } from '../http/router';
import type { TaskBody } from '../http/task';
import { weightsSigningInput } from '../http/task';
import { joinProofMessage, parseInvite, rotationProofMessage } from '../services/members';
import { fingerprint } from '../keys';

/**
 * What a member node uses to talk to its coordinator: signed requests (every one), the tasks and
 * weights the coordinator signs (checked against the key pinned at joining), and an HTTP
 * {@link RoundChannel} for secure aggregation with long polling. Network failures and 5xx answers
 * are retried with capped exponential backoff, so a node rides out a coordinator restart.
 */
export class CoordinatorHttpError extends Error {
  override readonly name = 'CoordinatorHttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${status} ${code}: ${message}`);
  }
}

export interface RetryPolicy {
  /** Give up after this long without a successful answer. */
  maxWaitMs: number;
  initialDelayMs: number;
  maxDelayMs: number;
}
const DEFAULT_RETRY: RetryPolicy = {
  maxWaitMs: 10 * 60_000,
  initialDelayMs: 200,
  maxDelayMs: 10_000,
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const encoder = new TextEncoder();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

async function errorOf(res: Response): Promise<CoordinatorHttpError> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    return new CoordinatorHttpError(
      res.status,
      body.error?.code ?? 'Error',
      body.error?.message ?? text,
    );
  } catch {
    return new CoordinatorHttpError(res.status, 'Error', text.slice(0, 200));
  }
}

/** fetch with retries on network errors and 5xx; 4xx answers are returned to the caller. */
export async function fetchWithRetry(
  make: () => Promise<Response>,
  retry: RetryPolicy,
  random: RandomSource,
  onRetry?: (attempt: number, reason: string) => void,
): Promise<Response> {
  const start = Date.now();
  let delay = retry.initialDelayMs;
  for (let attempt = 1; ; attempt++) {
    let reason: string;
    try {
      const res = await make();
      if (res.status < 500) return res;
      reason = `HTTP ${res.status}`;
      await res.body?.cancel();
    } catch (err) {
      reason = (err as Error).message;
    }
    if (Date.now() - start + delay > retry.maxWaitMs)
      throw new Error(
        `coordinator unreachable for ${Math.round((Date.now() - start) / 1000)} s: ${reason}`,
      );
    onRetry?.(attempt, reason);
    await sleep(delay * (0.5 + randomUnit(random)));
    delay = Math.min(retry.maxDelayMs, delay * 2);
  }
}

/**
 * How requests reach the coordinator: `fetch` over HTTP by default; the simulator passes the
 * coordinator's own request handler to run a cooperative in one process without sockets.
 */
export type Transport = (url: URL, init: RequestInit) => Promise<Response>;

export interface NodeClientOptions {
  url: string;
  /** Default: HTTP (`fetch`). */
  transport?: Transport;
  memberId: string;
  identity: KeyPair;
  /** The coordinator's public key, pinned at joining. */
  coordinatorKey: Uint8Array;
  retry?: Partial<RetryPolicy>;
  random?: RandomSource;
  onRetry?: (attempt: number, reason: string) => void;
}

export class NodeClient {
  readonly trpc;
  readonly #o: Required<Omit<NodeClientOptions, 'onRetry' | 'transport'>> & {
    transport: Transport;
    retry: RetryPolicy;
    onRetry?: NodeClientOptions['onRetry'];
  };

  constructor(o: NodeClientOptions) {
    this.#o = {
      ...o,
      transport: o.transport ?? ((url, init) => fetch(url, init)),
      retry: { ...DEFAULT_RETRY, ...o.retry },
      random: o.random ?? systemRandom(),
    };
    this.trpc = createTRPCClient<AppRouter>({
      links: [
        httpLink({
          url: `${o.url}/trpc`,
          fetch: ((input: string | URL | Request, init?: RequestInit) =>
            this.#fetch(input, init)) as typeof fetch,
        }),
      ],
    });
  }

  get memberId(): string {
    return this.#o.memberId;
  }

  /**
   * Joins a cooperative with an invite: checks that the coordinator's key matches the invite's
   * fingerprint, proves possession of the identity key, and returns the pinned coordinator key.
   */
  static async join(
    url: string,
    input: { invite: string; name: string; identity: KeyPair; profile?: Record<string, unknown> },
    transport?: Transport,
  ): Promise<{ memberId: string; status: string; coordinatorKey: Uint8Array }> {
    const anon = createTRPCClient<AppRouter>({
      links: [
        httpLink({
          url: `${url}/trpc`,
          ...(transport
            ? {
                fetch: ((input: string | URL | Request, init?: RequestInit) =>
                  transport(
                    new URL(input instanceof Request ? input.url : String(input)),
                    init ?? {},
                  )) as typeof fetch,
              }
            : {}),
        }),
      ],
    });
    const info = await anon.info.query();
    const coordinatorKey = Uint8Array.from(Buffer.from(info.publicKey, 'hex'));
    if (fingerprint(coordinatorKey) !== parseInvite(input.invite).fingerprint) {
      throw new Error(
        'the coordinator at this URL is not the one that issued the invite (key fingerprint mismatch)',
      );
    }
    const proof = sign(
      joinProofMessage(input.invite, input.identity.publicKey),
      input.identity.privateKey,
    );
    const r = await anon.join.mutate({
      invite: input.invite,
      name: input.name,
      publicKey: hex(input.identity.publicKey),
      proof: hex(proof),
      profile: input.profile ?? {},
    });
    if (!bytesEqual(Uint8Array.from(Buffer.from(r.coordinatorKey, 'hex')), coordinatorKey)) {
      throw new Error('the coordinator answered with a different key than it advertised');
    }
    return { memberId: r.memberId, status: r.status, coordinatorKey };
  }

  /** Signs and sends a request, retrying network failures and 5xx. */
  #fetch(input: string | URL | globalThis.Request, init?: RequestInit): Promise<Response> {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = init?.method ?? 'GET';
    const raw = init?.body;
    const body =
      raw === undefined || raw === null
        ? new Uint8Array()
        : typeof raw === 'string'
          ? encoder.encode(raw)
          : new Uint8Array(raw as ArrayBuffer);
    return fetchWithRetry(
      () => {
        const headers = signRequest(
          { method, path: url.pathname + url.search, memberId: this.#o.memberId, body },
          this.#o.identity.privateKey,
          this.#o.random,
        );
        return this.#o.transport(url, {
          ...init,
          method,
          headers: { ...(init?.headers as Record<string, string>), ...headers },
          body: method === 'GET' ? undefined : body,
        });
      },
      this.#o.retry,
      this.#o.random,
      this.#o.onRetry,
    );
  }

  /**
   * In-progress rounds for this member, each verified against the pinned coordinator key, and when
   * the member last edited its consent in the dashboard (null: the node's own settings stand).
   */
  async tasks(): Promise<{ status: string; tasks: TaskBody[]; consentEditAt: string | null }> {
    const r = await this.trpc.node.tasks.query();
    const tasks = r.tasks.map((t) => {
      const ok = verify(
        Uint8Array.from(Buffer.from(t.signature, 'hex')),
        encoder.encode(`coopfl/task/v1\n${t.task}`),
        this.#o.coordinatorKey,
      );
      if (!ok) throw new Error('a task is not signed by the pinned coordinator key');
      return JSON.parse(t.task) as TaskBody;
    });
    return { status: r.status, tasks, consentEditAt: r.consentEditAt };
  }

  /** A model version's weights, checked against the coordinator's signature. */
  async weights(modelId: string, version: number): Promise<Float32Array> {
    const res = await this.#fetch(
      `${this.#o.url}/v1/models/${encodeURIComponent(modelId)}/versions/${version}/weights`,
    );
    if (!res.ok) throw await errorOf(res);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const sig = res.headers.get('x-coopfl-signature') ?? '';
    if (
      !/^[0-9a-f]{128}$/.test(sig) ||
      !verify(
        Uint8Array.from(Buffer.from(sig, 'hex')),
        weightsSigningInput(modelId, version, bytes),
        this.#o.coordinatorKey,
      )
    ) {
      throw new Error(
        `weights of ${modelId} v${version} are not signed by the pinned coordinator key`,
      );
    }
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  }

  /**
   * A secure-aggregation channel for one round over HTTP (long polling for server messages).
   *
   * Each message is posted with `?wait=pollMs`: the coordinator answers once it has applied it and
   * then streams, in the same response, the server message that follows (when the stage closes),
   * which `receive` takes instead of polling the inbox — one signed request per stage, not two. An
   * empty or broken stream, or a coordinator that answers 204, leaves `receive` to poll as before.
   * `prefetch: false` always polls the inbox.
   */
  channel(roundId: string, opts: { pollMs?: number; prefetch?: boolean } = {}): RoundChannel {
    const kinds = ['keys', 'ciphertexts', 'unmaskRequest'] as const;
    let next = 0;
    const pollMs = opts.pollMs ?? 20_000;
    const base = `${this.#o.url}/v1/rounds/${encodeURIComponent(roundId)}`;
    /** The server message streaming in with the last message's answer, by its kind. */
    let ahead: { kind: string; bytes: Promise<Uint8Array | undefined> } | undefined;
    return {
      send: async (_from, bytes) => {
        ahead = undefined;
        const wait = opts.prefetch === false ? '' : `?wait=${pollMs}`;
        const res = await this.#fetch(`${base}/messages${wait}`, {
          method: 'POST',
          headers: { 'content-type': 'application/octet-stream' },
          body: bytes as Uint8Array<ArrayBuffer>,
        });
        if (res.ok) {
          const kind = res.headers.get('x-coopfl-inbox');
          if (res.status === 200 && kind) {
            ahead = {
              kind,
              bytes: res.arrayBuffer().then(
                (b) => (b.byteLength > 0 ? new Uint8Array(b) : undefined),
                () => undefined,
              ),
            };
          } else await res.body?.cancel();
          return;
        }
        const err = await errorOf(res);
        // A retried POST whose first attempt was applied: the protocol calls it a replay.
        if (res.status === 409 && err.message.includes('Replay:')) return;
        throw err;
      },
      receive: async () => {
        const kind = kinds[next];
        if (!kind) return undefined;
        const streamed = ahead?.kind === kind ? await ahead.bytes : undefined;
        ahead = undefined;
        if (streamed) {
          next++;
          return streamed;
        }
        for (;;) {
          const res = await this.#fetch(`${base}/inbox?kind=${kind}&wait=${pollMs}`);
          if (res.status === 200) {
            next++;
            return new Uint8Array(await res.arrayBuffer());
          }
          if (res.status === 204) continue;
          if (res.status === 410) return undefined;
          throw await errorOf(res);
        }
      },
    };
  }

  /** Rotates this node's identity key; the new key signs the request's proof. */
  async rotateKey(next: KeyPair): Promise<void> {
    const proof = sign(rotationProofMessage(this.#o.memberId, next.publicKey), next.privateKey);
    await this.trpc.node.rotateKey.mutate({ publicKey: hex(next.publicKey), proof: hex(proof) });
    this.#o.identity = next;
  }
}

/** SHA-256 of a weight vector, for logs and integrity checks. */
export const weightsDigest = (w: Float32Array): string =>
  hex(sha256(new Uint8Array(w.buffer, w.byteOffset, w.byteLength)));
