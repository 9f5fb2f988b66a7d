import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cryptoReady, seededRandom } from '@coopfl/protocol';
import { defaultArchitecture, initialWeights, type ModelKind } from '@coopfl/protocol/models';
import { CoopNodeError } from '../errors';
import { MODEL_RUNTIMES } from '../models';
import { readItems, readOrders, readProducts } from '../models/shop-data';
import { synthStore, type SynthStore } from '../models/testing';
import { initTf } from '../tf/backend';
import { createServeApp, type ModelProvider, type ServedModel, type ServeLogger } from './app';
import { startServe } from './server';

type Models = { [K in ModelKind]: ServedModel<K> };

let store: SynthStore;
let models: Models;
/** Catalog keys a well-known customer has bought, and that customer. */
let customer: { id: string; bought: Set<string> };
/** Two products of the shop: a cheap one and the dearest. */
let cheap: string;
let dear: string;
let catalogKey: string;
const lines: Record<string, unknown>[] = [];
const log: ServeLogger = { info: (o) => lines.push(o), error: (o) => lines.push(o) };

const provider: ModelProvider = (kind) => Promise.resolve(models[kind]);
const app = createServeApp({ provider, log });

async function serveModel<K extends ModelKind>(
  kind: K,
  opts: Parameters<typeof defaultArchitecture>[1],
): Promise<ServedModel<K>> {
  const arch = defaultArchitecture(kind, opts);
  const data = await MODEL_RUNTIMES[kind].prepare(store.source, {
    arch,
    storeId: store.storeIds[0],
  });
  return {
    arch,
    weights: initialWeights(arch, seededRandom(1)),
    data,
    version: 3,
    modelId: `${kind}-test`,
  };
}

beforeAll(async () => {
  await cryptoReady();
  await initTf({ log: () => undefined });
  store = await synthStore({
    shops: 1,
    days: 200,
    customersPerShop: 300,
    catalogSize: 60,
    seed: 5,
    dailySales: true,
    fraudRate: [0.03, 0.05],
  });
  models = {
    demand: await serveModel('demand', { hidden: 8 }),
    recommendation: await serveModel('recommendation', { vocab: 256, hidden: 16, embeddingDim: 8 }),
    fraud: await serveModel('fraud', { hidden: 8 }),
  };
  const [products, orders, items] = await Promise.all([
    readProducts(store.source),
    readOrders(store.source),
    readItems(store.source),
  ]);
  const keyOf = new Map(products.map((p) => [p.productId, p.catalogKey]));
  const ordersOf = new Map<string, string[]>();
  for (const o of orders)
    ordersOf.set(o.customerId, [...(ordersOf.get(o.customerId) ?? []), o.orderId]);
  const [id, ids] = [...ordersOf.entries()].sort((a, b) => b[1].length - a[1].length)[0]!;
  const mine = new Set(ids);
  customer = {
    id,
    bought: new Set(items.filter((i) => mine.has(i.orderId)).map((i) => i.productId)),
  };
  const byPrice = products.filter((p) => p.price !== undefined).sort((a, b) => a.price! - b.price!);
  cheap = byPrice[0]!.productId;
  dear = byPrice[byPrice.length - 1]!.productId;
  const sold = new Map<string, number>();
  for (const i of items) {
    const k = keyOf.get(i.productId)!;
    sold.set(k, (sold.get(k) ?? 0) + i.quantity);
  }
  catalogKey = [...sold.entries()].sort((a, b) => b[1] - a[1])[0]![0];
}, 120_000);

afterAll(() => store?.close());

interface Item {
  catalogKey: string;
  productId: string;
  score: number;
}
/** Any reply of the API, loosely: each test reads the fields of its route. */
type Reply = Record<string, unknown> & {
  error: { code: string; message: string };
  from: string;
  units: number[];
  items: Item[];
  score: number;
};

const get = async (path: string, init?: RequestInit) => {
  const res = await app.request(path, init);
  return { status: res.status, body: (await res.json()) as Reply };
};

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  get(path, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

describe('GET /forecast', () => {
  it('forecasts `days` non-negative units for a catalog key', async () => {
    const { status, body } = await get(
      `/forecast?catalog_key=${encodeURIComponent(catalogKey)}&days=7`,
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({ modelId: 'demand-test', version: 3, catalogKey });
    expect(body.from).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(body.units).toHaveLength(7);
    for (const u of body.units) expect(Number.isFinite(u) && u >= 0).toBe(true);
  });

  it('defaults to 14 days', async () => {
    const { body } = await get(`/forecast?catalog_key=${encodeURIComponent(catalogKey)}`);
    expect(body.units).toHaveLength(14);
  });

  it.each([
    ['days=99', 'query.days'],
    ['days=0', 'query.days'],
    ['days=1.5', 'query.days'],
    ['days=abc', 'query.days'],
  ])('400 for %s naming the parameter', async (q, field) => {
    const { status, body } = await get(
      `/forecast?catalog_key=${encodeURIComponent(catalogKey)}&${q}`,
    );
    expect(status).toBe(400);
    expect(body.error.code).toBe('BadRequest');
    expect(body.error.message).toContain(field);
  });

  it('400 without catalog_key', async () => {
    const { status, body } = await get('/forecast?days=3');
    expect(status).toBe(400);
    expect(body.error.message).toContain('query.catalog_key');
  });

  it('404 for an unknown catalog key, without echoing it', async () => {
    const { status, body } = await get('/forecast?catalog_key=no-such-key-4711');
    expect(status).toBe(404);
    expect(body.error.code).toBe('NotFound');
    expect(body.error.message).not.toContain('4711');
  });
});

describe('GET /recommend', () => {
  it('recommends k distinct items the customer has not bought', async () => {
    const { status, body } = await get(
      `/recommend?customer_id=${encodeURIComponent(customer.id)}&k=5`,
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({
      modelId: 'recommendation-test',
      version: 3,
      customerId: customer.id,
    });
    const items = body.items;
    expect(items).toHaveLength(5);
    expect(new Set(items.map((i) => i.catalogKey)).size).toBe(5);
    for (const i of items) {
      expect(customer.bought.has(i.productId)).toBe(false);
      expect(typeof i.productId).toBe('string');
      expect(Number.isFinite(i.score)).toBe(true);
    }
  });

  it('falls back to best sellers for a customer without history', async () => {
    const { status, body } = await get('/recommend?customer_id=never-seen-4711&k=3');
    expect(status).toBe(200);
    expect(body.fallback).toBe(true);
    expect(body.items).toHaveLength(3);
  });

  it('400 for k=0 and k=101', async () => {
    for (const k of ['0', '101']) {
      const { status, body } = await get(
        `/recommend?customer_id=${encodeURIComponent(customer.id)}&k=${k}`,
      );
      expect(status).toBe(400);
      expect(body.error.message).toContain('query.k');
    }
  });
});

describe('POST /fraud/score', () => {
  const order = () => ({
    customerId: customer.id,
    createdAt: '2024-03-02T10:00:00Z',
    total: 40,
    paymentMethod: 'card',
    billingCountry: 'DE',
    shippingCountry: 'DE',
    items: [{ productId: cheap, quantity: 1 }],
  });

  it('scores an order in [0, 1], and a very different order differently', async () => {
    const a = await post('/fraud/score', JSON.stringify(order()));
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ modelId: 'fraud-test', version: 3 });
    expect(a.body.score).toBeGreaterThanOrEqual(0);
    expect(a.body.score).toBeLessThanOrEqual(1);
    const big = {
      ...order(),
      customerId: 'brand-new-customer',
      createdAt: '2024-03-02T03:00:00Z',
      total: 9000,
      paymentMethod: 'crypto',
      shippingCountry: 'US',
      riskLevel: 'high',
      items: [{ productId: dear, quantity: 30 }],
    };
    const b = await post('/fraud/score', JSON.stringify(big));
    expect(b.status).toBe(200);
    expect(b.body.score).not.toBe(a.body.score);
  });

  it('400 for malformed JSON', async () => {
    const { status, body } = await post('/fraud/score', '{"total": 4');
    expect(status).toBe(400);
    expect(body.error.message).toMatch(/malformed JSON/);
  });

  it('400 naming items when the order has none', async () => {
    const { items: _items, ...rest } = order();
    const { status, body } = await post('/fraud/score', JSON.stringify(rest));
    expect(status).toBe(400);
    expect(body.error.message).toContain('body.items');
  });

  it('413 for a body over the limit', async () => {
    const huge = JSON.stringify({ ...order(), pad: 'x'.repeat(70 * 1024) });
    const { status, body } = await post('/fraud/score', huge);
    expect(status).toBe(413);
    expect(body.error.code).toBe('PayloadTooLarge');
  });
});

describe('availability and auth', () => {
  it('503 with a clear error while the node has no model of a kind', async () => {
    const empty = createServeApp({ provider: () => Promise.resolve(undefined) });
    const res = await empty.request('/forecast?catalog_key=a');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      error: {
        code: 'ModelUnavailable',
        message: 'no demand model yet: the node has not received one from the cooperative',
      },
    });
  });

  it('maps node errors in one place: NoModel → 503, a node fault → 500 without data', async () => {
    const noModel = createServeApp({
      provider: () => Promise.reject(new CoopNodeError('NoModel', 'no local model version yet')),
    });
    const a = await noModel.request('/forecast?catalog_key=a');
    expect(a.status).toBe(503);
    expect(await a.json()).toEqual({
      error: { code: 'ModelUnavailable', message: 'no local model version yet' },
    });

    const faults: Record<string, unknown>[] = [];
    const broken = createServeApp({
      provider: (kind) =>
        Promise.resolve({ ...models[kind], weights: new Float32Array(3) } as never),
      log: { info: () => undefined, error: (o) => faults.push(o) },
    });
    const b = await broken.request(`/forecast?catalog_key=${encodeURIComponent(catalogKey)}`);
    expect(b.status).toBe(500);
    expect(((await b.json()) as Reply).error.code).toBe('Internal');
    expect(faults).toEqual([{ route: '/forecast', code: 'InvalidArgument' }]);

    const thrown = createServeApp({
      provider: () => Promise.reject(new Error(`connection to db failed for ${customer.id}`)),
      log: { info: () => undefined, error: (o) => faults.push(o) },
    });
    const c = await thrown.request(`/recommend?customer_id=${encodeURIComponent(customer.id)}`);
    expect(c.status).toBe(500);
    expect(await c.json()).toEqual({ error: { code: 'Internal', message: 'internal error' } });
    expect(JSON.stringify(faults)).not.toContain(customer.id);
  });

  it('401 without the bearer token when one is set; /healthz stays open', async () => {
    const locked = createServeApp({ provider, token: 's3cret' });
    expect((await locked.request('/healthz')).status).toBe(200);
    const path = `/forecast?catalog_key=${encodeURIComponent(catalogKey)}`;
    const none = await locked.request(path);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('Unauthenticated');
    expect(
      (await locked.request(path, { headers: { authorization: 'Bearer wrong' } })).status,
    ).toBe(401);
    const ok = await locked.request(path, { headers: { authorization: 'Bearer s3cret' } });
    expect(ok.status).toBe(200);
  });

  it('JSON 404 for an unknown route', async () => {
    const { status, body } = await get('/nope');
    expect(status).toBe(404);
    expect(body.error.code).toBe('NotFound');
  });

  it('logs routes and statuses, never query values', () => {
    const text = JSON.stringify(lines);
    expect(lines.length).toBeGreaterThan(0);
    expect(text).not.toContain(customer.id);
    expect(text).not.toContain('no-such-key-4711');
  });
});

describe('startServe', () => {
  it('serves over HTTP on 127.0.0.1 with an ephemeral port', async () => {
    const api = await startServe({ port: 0, provider, token: 't0ken' });
    try {
      expect(api.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
      const res = await fetch(
        `${api.url}/recommend?customer_id=${encodeURIComponent(customer.id)}`,
        {
          headers: { authorization: 'Bearer t0ken' },
        },
      );
      expect(res.status).toBe(200);
      expect(((await res.json()) as { items: unknown[] }).items).toHaveLength(10);
      const big = await fetch(`${api.url}/fraud/score`, {
        method: 'POST',
        headers: { authorization: 'Bearer t0ken', 'content-type': 'application/json' },
        body: 'x'.repeat(65 * 1024),
      });
      expect(big.status).toBe(413);
    } finally {
      await api.close();
    }
  });
});
