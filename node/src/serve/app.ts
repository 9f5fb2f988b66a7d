import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import type { Architecture, ModelKind } from '@coopfl/protocol/models';
import { CoopNodeError, isCoopNodeError } from '../errors';
import { FraudOrderSchema, forecast, recommend, scoreOrder, type ModelDataByKind } from '../models';
import { bearerMatches } from './auth';
import { NODE_ERROR_HTTP, errorResponse } from './errors';
import type { NodeBenchmarks } from '../benchmarks';
import { BenchmarksQuery, ForecastQuery, RecommendQuery, describeIssue } from './schemas';

/** A model ready to serve: the cooperative's weights for it and the shop's prepared data. */
export interface ServedModel<K extends ModelKind = ModelKind> {
  readonly arch: Architecture;
  readonly weights: Float32Array;
  readonly data: ModelDataByKind[K];
  /** The global model version the weights come from (shown to callers, for their own audit). */
  readonly version: number;
  /** The weights are this shop's fine-tuned copy of that version (served only here). */
  readonly personalized?: boolean;
  readonly modelId: string;
}

/**
 * Where the API gets its models: the node's latest global weights per kind with data prepared from
 * the store. Called on every request, so it should return a cached value; `undefined` while the
 * node has not yet received a model of that kind from the cooperative (answered 503). A
 * `CoopNodeError` it throws is answered by its code (`NoModel` → 503, see `NODE_ERROR_HTTP`).
 *
 * @example
 * const latest: { [K in ModelKind]?: ServedModel<K> } = {};
 * const provider: ModelProvider = (kind) => Promise.resolve(latest[kind]);
 */
export type ModelProvider = <K extends ModelKind>(kind: K) => Promise<ServedModel<K> | undefined>;

/** Structured log sink (pino-compatible). Lines carry routes, statuses and timings, never data. */
export interface ServeLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

/** Options of {@link createServeApp}. */
export interface ServeAppOptions {
  readonly provider: ModelProvider;
  readonly log?: ServeLogger;
  /**
   * Optional shared secret: when set, every route but `/healthz` requires
   * `Authorization: Bearer <token>`. Worth setting whenever anything else runs on the host.
   */
  readonly token?: string;
  /**
   * The shop's benchmarks for `GET /benchmarks` (own values beside the cooperative's published
   * figures); without it the route answers 404.
   */
  readonly benchmarks?: (period?: string) => Promise<NodeBenchmarks>;
  /**
   * The one browser origin allowed to read `GET /benchmarks` (the cooperative's dashboard, so that
   * the shop's own figures go from its node to its own browser and nowhere else). No other route
   * is ever readable cross-origin.
   */
  readonly corsOrigin?: string;
  /** Largest accepted request body in bytes (default 64 KiB: an order is a few hundred bytes). */
  readonly maxBodyBytes?: number;
}

/** Default {@link ServeAppOptions.maxBodyBytes}. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

/**
 * The node's local prediction API (Hono): the shop's own systems ask its node, on localhost, for a
 * demand forecast, recommendations or a fraud score, computed from the cooperative's latest model
 * and the shop's own data. Nothing here leaves the machine.
 *
 * - `GET /forecast?catalog_key=…&days=14` → `{ modelId, version, personalized, catalogKey, from,
 *   units }`
 * - `GET /recommend?customer_id=…&k=10` → `{ modelId, version, personalized, customerId, items,
 *   fallback? }`;
 *   items are `{ catalogKey, productId, score }`, never something the customer already bought; a
 *   customer without purchase history gets the shop's best sellers with `fallback: true`
 * - `POST /fraud/score` (JSON order) → `{ modelId, version, personalized, score }`
 * - `GET /benchmarks?period=2026-10` → {@link NodeBenchmarks}: the shop's own KPIs (computed on
 *   the node) beside the cooperative's published benchmarks; readable from `corsOrigin` only
 * - `GET /healthz` → `{ ok: true }` (never needs the token)
 *
 * Errors are `{ error: { code, message } }`: 400 naming the bad parameter, 401 without the
 * token, 404 for an unknown catalog key or route, 413 for an oversized body, 503 while the
 * node has no model of the kind.
 *
 * @example
 * const app = createServeApp({ provider: (kind) => models.latest(kind), token: env.SERVE_TOKEN });
 * const res = await app.request('/forecast?catalog_key=sku-1', {
 *   headers: { authorization: `Bearer ${env.SERVE_TOKEN}` },
 * });
 */
export function createServeApp(opts: ServeAppOptions): Hono {
  const { provider, log, token } = opts;
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const app = new Hono();

  app.onError((err, c) => {
    if (!isCoopNodeError(err)) {
      // Name only: a foreign error's message might quote data.
      log?.error({ route: c.req.routePath, err: err.name }, 'serve request failed');
      return errorResponse('Internal', 'internal error');
    }
    // CoopNodeError messages name what is wrong and never carry data values (see ../errors).
    const message = err.message.slice(err.code.length + 2);
    const code = NODE_ERROR_HTTP[err.code];
    if (code === undefined) log?.error({ route: c.req.routePath, code: err.code }, 'serve fault');
    return errorResponse(code ?? 'Internal', message);
  });
  app.notFound((c) => errorResponse('NotFound', `no route ${c.req.method} ${c.req.path}`));

  if (log) {
    app.use('*', async (c, next) => {
      const t0 = performance.now();
      await next();
      const ms = Math.round((performance.now() - t0) * 10) / 10;
      log.info(
        { method: c.req.method, route: c.req.routePath, status: c.res.status, ms },
        'serve request',
      );
    });
  }

  app.get('/healthz', (c) => c.json({ ok: true }));

  // Before the token check: a browser's preflight carries no Authorization header.
  if (opts.corsOrigin !== undefined) {
    const origin = new URL(opts.corsOrigin).origin;
    app.use('/benchmarks', async (c, next) => {
      await next();
      // Chromium's Private Network Access: a dashboard on a public address reading a node on
      // localhost must be allowed explicitly.
      if (c.req.header('access-control-request-private-network') === 'true' && c.res.ok) {
        c.res.headers.set('access-control-allow-private-network', 'true');
      }
    });
    app.use(
      '/benchmarks',
      cors({ origin, allowMethods: ['GET'], allowHeaders: ['authorization'], maxAge: 600 }),
    );
  }

  if (token !== undefined) {
    if (token.length === 0) throw new TypeError('token must not be empty when set');
    app.use('*', async (c, next) => {
      if (!bearerMatches(c.req.header('authorization'), token)) {
        return errorResponse(
          'Unauthenticated',
          'this node requires Authorization: Bearer <token>',
          { 'www-authenticate': 'Bearer' },
        );
      }
      await next();
    });
  }

  app.use(
    '*',
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: () => errorResponse('PayloadTooLarge', `request body exceeds ${maxBodyBytes} bytes`),
    }),
  );

  /** Resolves the model of `kind`, or the 503 to answer while there is none. */
  const served = async <K extends ModelKind>(kind: K): Promise<ServedModel<K> | Response> => {
    const m = await provider(kind);
    if (m !== undefined) {
      if (m.data.kind !== kind) {
        throw new CoopNodeError(
          'InvalidModel',
          `the provider returned ${m.data.kind} data for ${kind}`,
        );
      }
      return m;
    }
    return errorResponse(
      'ModelUnavailable',
      `no ${kind} model yet: the node has not received one from the cooperative`,
    );
  };

  app.get('/forecast', async (c) => {
    const q = ForecastQuery.safeParse(c.req.query());
    if (!q.success) return errorResponse('BadRequest', describeIssue('query', q.error));
    const m = await served('demand');
    if (m instanceof Response) return m;
    const key = q.data.catalog_key;
    // Checked here so that "unknown key" is a 404 and not the models' generic InvalidArgument.
    if (!m.data.series.some((s) => s.catalogKey === key)) {
      return errorResponse(
        'NotFound',
        'query.catalog_key: unknown catalog key (the shop has no sales series for it, or too little history)',
      );
    }
    const f = forecast(m.arch, m.weights, m.data, key, q.data.days);
    return c.json({
      modelId: m.modelId,
      version: m.version,
      personalized: m.personalized ?? false,
      catalogKey: key,
      from: f.from,
      units: f.units,
    });
  });

  app.get('/recommend', async (c) => {
    const q = RecommendQuery.safeParse(c.req.query());
    if (!q.success) return errorResponse('BadRequest', describeIssue('query', q.error));
    const m = await served('recommendation');
    if (m instanceof Response) return m;
    const r = recommend(m.arch, m.weights, m.data, q.data.customer_id, q.data.k);
    return c.json({
      modelId: m.modelId,
      version: m.version,
      personalized: m.personalized ?? false,
      customerId: q.data.customer_id,
      items: r.items,
      ...(r.fallback ? { fallback: true } : {}),
    });
  });

  app.post('/fraud/score', async (c) => {
    let json: unknown;
    try {
      json = JSON.parse(await c.req.text());
    } catch {
      return errorResponse('BadRequest', 'body: must be a JSON object (malformed JSON)');
    }
    const order = FraudOrderSchema.safeParse(json);
    if (!order.success) return errorResponse('BadRequest', describeIssue('body', order.error));
    const m = await served('fraud');
    if (m instanceof Response) return m;
    const { score } = scoreOrder(m.arch, m.weights, m.data, order.data);
    return c.json({
      modelId: m.modelId,
      version: m.version,
      personalized: m.personalized ?? false,
      score,
    });
  });

  app.get('/benchmarks', async (c) => {
    if (!opts.benchmarks) return errorResponse('NotFound', 'this node does not serve benchmarks');
    const q = BenchmarksQuery.safeParse(c.req.query());
    if (!q.success) return errorResponse('BadRequest', describeIssue('query', q.error));
    return c.json(await opts.benchmarks(q.data.period));
  });

  return app;
}
