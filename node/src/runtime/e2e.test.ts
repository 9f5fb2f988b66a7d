import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cryptoReady } from '@coopfl/protocol';
import type { ModelKind } from '@coopfl/protocol/models';
import { MODEL_KINDS, MODEL_METRICS } from '@coopfl/protocol/models';
import type { RunningCoordinator } from '@coopfl/coordinator';
import type { AdminClient } from '@coopfl/coordinator/client';
import type { RunningServe } from '../serve';
import { startServe } from '../serve';
import type { CooperativeTables } from '../synth';
import { initTf } from '../tf/backend';
import { MAIN_METRIC, MODEL_RUNTIMES } from '../models';
import type { ModelRuntime } from '../models/types';
import { createModelProvider } from './serving';
import { personalizedVersion } from './state';
import type { TestNode } from './testing';
import {
  dropTestNode,
  shopTables,
  smallCooperative,
  smallModelConfig,
  storeIdsOf,
  testCoordinator,
  testNode,
  waitForEvent,
  waitForRound,
} from './testing';

/**
 * The whole path over real HTTP on 127.0.0.1: a coordinator, three member nodes each with one
 * synthetic shop in its own PGlite store, the three real models, secure aggregation, and local
 * serving of the resulting global models.
 */
const runtimes = MODEL_RUNTIMES as Partial<Record<ModelKind, ModelRuntime>>;
let running: RunningCoordinator;
let admin: AdminClient;
let tables: CooperativeTables;
const nodes: TestNode[] = [];
const ctl = new AbortController();
let loops: Promise<unknown>[] = [];

beforeAll(async () => {
  await cryptoReady();
  await initTf({ log: () => undefined });
  ({ running, admin } = await testCoordinator());
  tables = smallCooperative();
  for (const storeId of storeIdsOf(tables)) {
    nodes.push(await testNode(running, admin, tables, storeId, { runtimes }));
  }
  for (const kind of MODEL_KINDS) {
    await admin.models.create.mutate({ id: kind, kind, config: smallModelConfig(kind) });
  }
  loops = nodes.map((t) =>
    t.node.run({
      signal: ctl.signal,
      pollMs: 150,
      channelPollMs: 2_000,
      onEvent: (e) => t.events.push(e),
    }),
  );
}, 120_000);

afterAll(async () => {
  ctl.abort();
  await Promise.allSettled(loops);
  for (const t of nodes) await dropTestNode(t);
  await running?.close();
}, 60_000);

describe('a cooperative of three nodes', () => {
  it('joins members through invites, approved by the admin', async () => {
    const members = await admin.members.list.query();
    expect(members).toHaveLength(3);
    expect(members.every((m) => m.status === 'approved')).toBe(true);
    const s = await nodes[0]!.node.status();
    expect(s.membership).toBe('approved');
  });

  it('trains each model for two rounds with every member surviving', async () => {
    for (let r = 1; r <= 2; r++) {
      const started = await Promise.all(
        MODEL_KINDS.map((kind) => admin.rounds.start.mutate({ modelId: kind })),
      );
      expect(started.every((s) => s.cohort === 3)).toBe(true);
      const done = await Promise.all(started.map((s) => waitForRound(admin, s.roundId)));
      for (const d of done) {
        expect(d.status, d.error ?? '').toBe('done');
        expect(d.resultVersion).toBe(r);
      }
    }
    const models = await admin.models.list.query();
    for (const m of models) {
      expect(m.latestVersion).toBe(2);
      expect((m.metrics as { round: { survivors: number } }).round.survivors).toBe(3);
    }
    // Every node stored the new global versions after the rounds it took part in.
    for (const t of nodes) {
      for (const kind of MODEL_KINDS) {
        await waitForEvent(
          t.events,
          (e) => e.type === 'model-stored' && e.modelId === kind && e.version === 2,
        );
      }
      const s = await t.node.status();
      expect(s.models.map((m) => [m.modelId, m.localVersion])).toEqual(
        MODEL_KINDS.map((k) => [k, 2]).sort(),
      );
      expect(t.events.filter((e) => e.type === 'refused' || e.type === 'round-error')).toEqual([]);
    }
  }, 240_000);

  it('evaluates a model: only the average of the members’ metrics is released', async () => {
    const { roundId } = await admin.rounds.start.mutate({
      modelId: 'fraud',
      kind: 'eval',
      metrics: [...MODEL_METRICS.fraud],
    });
    const done = await waitForRound(admin, roundId);
    expect(done.status, done.error ?? '').toBe('done');
    // Every node measured the model on its own held-out orders; one that cannot measure a
    // metric (no fraud case in its test split) stays out of the average instead of guessing.
    let measured = 0;
    for (const t of nodes) {
      await waitForEvent(t.events, (e) => e.type === 'evaluated' && e.roundId === roundId);
      const refused = t.events.find((e) => e.type === 'refused' && e.roundId === roundId);
      if (refused) expect(refused).toMatchObject({ reason: 'metrics' });
      else measured++;
    }
    const fraud = (await admin.models.list.query()).find((m) => m.id === 'fraud')!;
    const { eval: evalMetrics, evalMembers } = fraud.metrics as {
      eval: Record<string, number>;
      evalMembers: number;
    };
    expect(evalMembers).toBe(measured);
    expect(evalMembers).toBeGreaterThanOrEqual(2);
    expect(Object.keys(evalMetrics).sort()).toEqual([...MODEL_METRICS.fraud].sort());
    expect(evalMetrics.pr_auc).toBeGreaterThanOrEqual(0);
    expect(evalMetrics.pr_auc).toBeLessThanOrEqual(1);
  }, 120_000);

  it('each node personalizes the newest global models, keeping a copy only where its validation data prefers it', async () => {
    let kept = 0;
    for (const t of nodes) {
      for (const kind of MODEL_KINDS) {
        const e = await waitForEvent(
          t.events,
          (e) =>
            (e.type === 'personalized' || e.type === 'personalize-failed') &&
            e.modelId === kind &&
            e.version === 2,
        );
        if (e.type !== 'personalized') throw new Error(`${kind}: ${JSON.stringify(e)}`);
        expect(e.metric).toBe(MAIN_METRIC[kind].name);
        const stored = (await personalizedVersion(t.node.db, kind, 2)) !== undefined;
        expect(stored).toBe(e.epochs > 0);
        if (e.epochs > 0) {
          kept++;
          // Kept only when strictly better on the shop's validation split, in the metric's direction.
          const sign = MAIN_METRIC[kind].higherIsBetter ? 1 : -1;
          expect(sign * (e.kept! - e.global!)).toBeGreaterThan(0);
        }
      }
    }
    // Two epochs on a shop's own data beat a two-round global model somewhere.
    expect(kept).toBeGreaterThan(0);
  }, 120_000);

  it('each node serves predictions from the latest stored global models over local HTTP', async () => {
    for (const t of nodes) await servesPredictions(t);
  }, 240_000);

  async function servesPredictions(t: TestNode) {
    const mine = shopTables(tables, t.storeId);
    const provider = createModelProvider(t.node.db, await t.node.source(), runtimes);
    const api: RunningServe = await startServe({ provider, port: 0 });
    try {
      // The shop's best-selling catalog key and a customer with orders.
      const sold = new Map<string, number>();
      const keyOf = new Map(
        mine.products.map((p) => [String(p.product_id), String(p.catalog_key)]),
      );
      for (const it of mine.order_items) {
        const k = keyOf.get(String(it.product_id));
        if (k) sold.set(k, (sold.get(k) ?? 0) + Number(it.quantity));
      }
      const top = [...sold].sort((a, b) => b[1] - a[1])[0]![0];
      const f = await fetch(`${api.url}/forecast?catalog_key=${encodeURIComponent(top)}&days=14`);
      expect(f.status).toBe(200);
      const forecast = (await f.json()) as {
        version: number;
        personalized: boolean;
        units: number[];
      };
      expect(forecast.version).toBe(2);
      // The shop's personalized copy of version 2 where it kept one, else the global model.
      expect(forecast.personalized).toBe(
        (await personalizedVersion(t.node.db, 'demand', 2)) !== undefined,
      );
      expect(forecast.units).toHaveLength(14);
      expect(forecast.units.every(Number.isFinite)).toBe(true);

      const order = mine.orders[mine.orders.length - 1]!;
      const r = await fetch(
        `${api.url}/recommend?customer_id=${encodeURIComponent(String(order.customer_id))}&k=5`,
      );
      expect(r.status).toBe(200);
      const rec = (await r.json()) as { version: number; personalized: boolean; items: unknown[] };
      expect(rec.version).toBe(2);
      expect(rec.personalized).toBe(
        (await personalizedVersion(t.node.db, 'recommendation', 2)) !== undefined,
      );
      expect(rec.items.length).toBeGreaterThan(0);

      const items = mine.order_items
        .filter((i) => i.order_id === order.order_id)
        .map((i) => ({
          productId: String(i.product_id),
          quantity: Number(i.quantity),
          unitPrice: Number(i.unit_price),
        }));
      const s = await fetch(`${api.url}/fraud/score`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          customerId: String(order.customer_id),
          createdAt: new Date(String(order.created_at)).toISOString(),
          total: Number(order.total),
          paymentMethod: String(order.payment_method),
          billingCountry: String(order.billing_country),
          shippingCountry: String(order.shipping_country),
          items,
        }),
      });
      expect(s.status).toBe(200);
      const score = (await s.json()) as { version: number; score: number };
      expect(score.version).toBe(2);
      expect(score.score).toBeGreaterThanOrEqual(0);
      expect(score.score).toBeLessThanOrEqual(1);
    } finally {
      await api.close();
    }
  }
});
