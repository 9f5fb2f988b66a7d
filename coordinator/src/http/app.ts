import { Hono } from 'hono';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { trpcServer } from '@hono/trpc-server';
import { z } from 'zod';
import type { CoordinatorContext } from '../context';
import type { Member } from '../db';
import { CoordinatorError, isCoordinatorError } from '../errors';
import type { RoundHost } from '../rounds/host';
import type { Principal } from '../services/admins';
import { authenticate } from '../services/admins';
import { getVersion } from '../services/models';
import type { NodeAuth, SignedRequest } from '../services/node-auth';
import { authenticateNode, nonceTaken, releaseNonce } from '../services/node-auth';
import { isClaimRefusal } from '../services/nonce-claims';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import { RateLimiter } from './rate-limit';
import { appRouter } from './router';
import { signWeights } from './task';
import type { RequestContext } from './trpc';
import { TRPC_CODE_OF_STATUS } from './trpc';

type Env = {
  Variables: {
    node?: Member;
    /** A signed node request and how it was authenticated (its nonce's claim). */
    signed?: { auth: NodeAuth; request: SignedRequest };
    principal?: Principal;
    address: string;
  };
};

/** Round messages: their nonce is stored with the message's events, in one write. */
const ROUND_MESSAGES = /^\/v1\/rounds\/[^/]+\/messages$/;

const wait = z.coerce.number().int().min(0).max(30_000).default(0);
const InboxQuery = z.object({ kind: z.enum(['keys', 'ciphertexts', 'unmaskRequest']), wait });
const MessageQuery = z.object({ wait });

/** A query's first problem, as the BadRequest every route answers with. */
const badQuery = (error: z.ZodError) =>
  new CoordinatorError(
    'BadRequest',
    `query ${error.issues[0]?.path.join('.')}: ${error.issues[0]?.message}`,
  );

/**
 * The coordinator's HTTP surface (Hono): tRPC at /trpc for control, binary routes under /v1 for
 * round messages and weights (application/octet-stream, never JSON numbers), /healthz, /metrics.
 * Member nodes authenticate every request by signature; admins and members' dashboard sessions by
 * bearer token. Every error is `{ error: { code, message } }` with the status of its code.
 */
export function createApp(ctx: CoordinatorContext, rounds: RoundHost): Hono<Env> {
  const app = new Hono<Env>();
  const limiter = new RateLimiter({ windowMs: 60_000, max: ctx.config.authRatePerMinute });

  app.onError((err, c) => {
    const e = isCoordinatorError(err) ? err : undefined;
    if (!e) ctx.log.error({ path: c.req.path, err: err.name }, 'unhandled error');
    const status = e?.status ?? 500;
    const code = e?.code ?? 'Internal';
    const message = e?.message ?? 'internal error';
    // tRPC clients parse only tRPC's error envelope; errors raised before tRPC (auth, limits) use it.
    if (c.req.path.startsWith('/trpc/')) {
      const key = TRPC_CODE_OF_STATUS[status] ?? 'INTERNAL_SERVER_ERROR';
      const data = { code: key, httpStatus: status, coopflCode: code };
      return c.json({ error: { message, code: TRPC_ERROR_CODES_BY_KEY[key], data } }, status);
    }
    return c.json({ error: { code, message } }, status);
  });

  app.get('/healthz', (c) => c.json({ ok: true }));
  app.get('/metrics', async (c) =>
    c.text(await ctx.metrics.registry.metrics(), 200, {
      'content-type': ctx.metrics.registry.contentType,
    }),
  );

  app.use('*', async (c, next) => {
    const t0 = performance.now();
    await next();
    const route = c.req.path.startsWith('/trpc/') ? c.req.path : (c.req.routePath ?? c.req.path);
    ctx.metrics.requestSeconds.observe(
      { route, status: String(c.res.status) },
      (performance.now() - t0) / 1000,
    );
  });

  // Hono's bodyLimit reads `c.req.raw.body` first, which makes @hono/node-server build a full
  // WHATWG Request with a web-stream body: every 400 KB masked input then went through undici and
  // web streams (≈ 15 % of the coordinator's CPU in `bench round`). A declared length is checked
  // from the header, and the body is then read straight from the socket; only chunked bodies go
  // through bodyLimit's counting reader.
  const tooLarge = () => {
    throw new CoordinatorError(
      'PayloadTooLarge',
      `request body exceeds ${ctx.config.maxBodyBytes} bytes`,
    );
  };
  const countingLimit: MiddlewareHandler<Env, '*'> = bodyLimit({
    maxSize: ctx.config.maxBodyBytes,
    onError: tooLarge,
  });
  const limitBody: MiddlewareHandler<Env, '*'> = async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const length = c.req.header('content-length');
    if (length === undefined || c.req.header('transfer-encoding') !== undefined)
      return countingLimit(c, next);
    if (!/^\d+$/.test(length) || Number(length) > ctx.config.maxBodyBytes) tooLarge();
    return next();
  };
  app.use('*', limitBody);

  // Who is calling: a signed node request, or a bearer session. A request's nonce is claimed
  // before it is handled (so a concurrent replay is refused too) and released if it fails, so
  // refused input leaves nothing stored — except a round message's, stored with the message.
  app.use('*', async (c, next) => {
    c.set('address', c.req.header('x-forwarded-for')?.split(',')[0]?.trim() ?? 'local');
    if (c.req.header('x-coopfl-member')) {
      const url = new URL(c.req.url);
      // tRPC reads the raw request itself, so its (small) bodies are read from a clone; binary
      // routes read Hono's cached copy, so a 400 KB masked input is not streamed twice. A GET
      // has no body (the node signs an empty one): nothing to read or clone.
      const body =
        c.req.method === 'GET' || c.req.method === 'HEAD'
          ? new Uint8Array()
          : new Uint8Array(
              url.pathname.startsWith('/trpc/')
                ? await c.req.raw.clone().arrayBuffer()
                : await c.req.arrayBuffer(),
            );
      const request: SignedRequest = {
        method: c.req.method,
        path: url.pathname + url.search,
        body,
        header: (n) => c.req.header(n),
      };
      const withMessage = c.req.method === 'POST' && ROUND_MESSAGES.test(url.pathname);
      const auth = await authenticateNode(ctx, request, { claim: !withMessage });
      c.set('node', auth.member);
      c.set('signed', { auth, request });
      try {
        await next();
      } finally {
        // The route may have claimed a deferred nonce after all (see submitMessage).
        const { auth: now } = c.get('signed')!;
        if (c.res.status >= 400 && now.claimed)
          await releaseNonce(ctx, now.member.id, now.claim.nonce);
      }
      return;
    }
    const bearer = /^Bearer (\S+)$/.exec(c.req.header('authorization') ?? '')?.[1];
    if (bearer) {
      const principal = await authenticate(ctx, bearer);
      if (!principal)
        throw new CoordinatorError('Unauthenticated', 'the session token is unknown or expired');
      c.set('principal', principal);
    }
    await next();
  });

  // Joining and logging in are rate-limited per client address.
  app.use('/trpc/*', async (c, next) => {
    if (/\/trpc\/(join|auth\.login|auth\.memberLogin)\b/.test(c.req.path))
      limiter.take(c.get('address'));
    await next();
  });

  app.use(
    '/trpc/*',
    trpcServer({
      router: appRouter,
      createContext: (_opts, c: Context<Env>): RequestContext => ({
        app: ctx,
        rounds,
        clientAddress: c.get('address'),
        ...(c.get('node') ? { node: c.get('node') } : {}),
        ...(c.get('principal') ? { principal: c.get('principal') } : {}),
      }),
    }),
  );

  const requireNode = (c: Context<Env>): Member => {
    const node = c.get('node');
    if (!node)
      throw new CoordinatorError('Unauthenticated', 'this route needs a signed node request');
    if (node.status !== 'approved')
      throw new CoordinatorError('Forbidden', `member "${node.id}" is ${node.status}`);
    return node;
  };

  /**
   * Applies a round message, storing its request's nonce in the same write. If that refuses the
   * nonce — a replay, a member changed meanwhile, or another message of the same write — nothing
   * was stored: the request is authenticated again with its own claim, which names the reason or
   * succeeds, and the message applied on its own. A refused message whose nonce is stored was a
   * replay, and is refused as one.
   */
  const submitMessage = async (
    c: Context<Env>,
    node: Member,
    roundId: string,
    bytes: Uint8Array,
  ) => {
    const signed = c.get('signed')!;
    try {
      try {
        return await rounds.submit(
          roundId,
          node.id,
          bytes,
          signed.auth.claimed ? undefined : signed.auth.claim,
        );
      } catch (err) {
        if (signed.auth.claimed || !isClaimRefusal(err)) throw err;
        signed.auth = await authenticateNode(ctx, signed.request);
        return await rounds.submit(roundId, node.id, bytes);
      }
    } catch (err) {
      if (
        isCoordinatorError(err) &&
        err.code !== 'ReplayedRequest' &&
        !signed.auth.claimed &&
        (await nonceTaken(ctx, node.id, signed.auth.claim.nonce))
      )
        throw new CoordinatorError('ReplayedRequest', 'this request (nonce) was already served', {
          cause: err,
        });
      throw err;
    }
  };

  /**
   * A secure-aggregation message from a member (its own signed protocol envelope): 204 once it is
   * applied. With `?wait=MS` the answer is 200 as soon as it is applied, naming in
   * `x-coopfl-inbox` the server message the member waits for next, and that message is the body,
   * streamed once the stage closes (empty if not within MS; the member then asks its inbox): one
   * signed request per stage instead of the message and a long poll of the inbox.
   */
  app.post('/v1/rounds/:roundId/messages', async (c) => {
    const node = requireNode(c);
    if (c.req.header('content-type') !== 'application/octet-stream') {
      throw new CoordinatorError('BadRequest', 'round messages must be application/octet-stream');
    }
    const q = MessageQuery.safeParse(c.req.query());
    if (!q.success) throw badQuery(q.error);
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    const roundId = c.req.param('roundId');
    const next = await submitMessage(c, node, roundId, bytes);
    if (!next || q.data.wait === 0) return c.body(null, 204);
    const body = new ReadableStream<Uint8Array>({
      start: async (controller) => {
        try {
          const msg = await rounds.inbox(roundId, node.id, next, q.data.wait);
          if (msg instanceof Uint8Array) controller.enqueue(msg);
          controller.close();
        } catch {
          // The round ended or left this coordinator meanwhile (the member's inbox request says
          // so), or the member went away.
          try {
            controller.close();
          } catch {
            // already cancelled
          }
        }
      },
    });
    return c.body(body, 200, {
      'content-type': 'application/octet-stream',
      'x-coopfl-inbox': next,
    });
  });

  /** The server message of a stage for this member: 200 bytes, 204 not yet, 410 round over. */
  app.get('/v1/rounds/:roundId/inbox', async (c) => {
    const node = requireNode(c);
    const q = InboxQuery.safeParse(c.req.query());
    if (!q.success) throw badQuery(q.error);
    const msg = await rounds.inbox(c.req.param('roundId'), node.id, q.data.kind, q.data.wait);
    if (msg === 'pending') return c.body(null, 204);
    if (msg === 'closed')
      return c.json(
        { error: { code: 'RoundClosed', message: 'the round ended without this message' } },
        410,
      );
    return c.body(msg as Uint8Array<ArrayBuffer>, 200, {
      'content-type': 'application/octet-stream',
    });
  });

  // Versions are immutable: sign each once (SHA-256 over the weights), not on every download.
  const signatures = new WeakMap<object, string>();
  const weightSignature = (v: { modelId: string; version: number; weights: Uint8Array }) => {
    let sig = signatures.get(v);
    if (!sig) signatures.set(v, (sig = signWeights(ctx.key, v.modelId, v.version, v.weights)));
    return sig;
  };

  /** Model weights (float32 little-endian), signed by the coordinator. */
  app.get('/v1/models/:modelId/versions/:version/weights', async (c) => {
    if (!c.get('node') && !c.get('principal'))
      throw new CoordinatorError('Unauthenticated', 'sign the request or log in');
    const version = Number(c.req.param('version'));
    if (!Number.isInteger(version) || version < 0)
      throw new CoordinatorError('BadRequest', 'version must be a non-negative integer');
    const modelId = c.req.param('modelId');
    const v = await getVersion(ctx, modelId, version);
    ctx.metrics.bytesOut.inc(v.weights.length);
    return c.body(v.weights as Uint8Array<ArrayBuffer>, 200, {
      'content-type': 'application/octet-stream',
      'x-coopfl-signature': weightSignature(v),
    });
  });

  return app;
}
