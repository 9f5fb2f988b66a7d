import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cryptoReady } from '@coopfl/protocol';
import type { ModelKind } from '@coopfl/protocol/models';
import type { RunningCoordinator } from '@coopfl/coordinator';
import type { AdminClient } from '@coopfl/coordinator/client';
import { MODEL_RUNTIMES } from '../models';
import type { ModelRuntime } from '../models/types';
import { initTf } from '../tf/backend';
import type { NodeEvent } from './events';
import type { TestNode } from './testing';
import {
  dropTestNode,
  smallCooperative,
  smallModelConfig,
  storeIdsOf,
  testCoordinator,
  testNode,
  waitForRound,
} from './testing';

/**
 * Consent and privacy budgets are enforced at the node (DESIGN §4 step 2, §8): the coordinator's
 * mirror keeps it out of cohorts, and a node asked anyway refuses.
 */
const runtimes = MODEL_RUNTIMES as Partial<Record<ModelKind, ModelRuntime>>;
let running: RunningCoordinator;
let admin: AdminClient;
const nodes: TestNode[] = [];
const once = (t: TestNode) =>
  t.node.run({ once: true, channelPollMs: 1_000, onEvent: (e) => t.events.push(e) });
const ofRound = (t: TestNode, roundId: string): NodeEvent[] =>
  t.events.filter((e) => 'roundId' in e && e.roundId === roundId);

beforeAll(async () => {
  await cryptoReady();
  await initTf({ log: () => undefined });
  ({ running, admin } = await testCoordinator());
  const tables = smallCooperative({ customersPerShop: 100, days: 200 });
  for (const storeId of storeIdsOf(tables)) {
    nodes.push(await testNode(running, admin, tables, storeId, { runtimes }));
  }
}, 120_000);

afterAll(async () => {
  for (const t of nodes) await dropTestNode(t);
  await running?.close();
}, 60_000);

describe('privacy budget', () => {
  it('a node whose own ε cap the round would exceed refuses it; the others spend and record ε', async () => {
    const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
    await admin.models.create.mutate({
      id: 'fraud-dp',
      kind: 'fraud',
      config: smallModelConfig('fraud', {
        dp: { mode: 'central', clipNorm: 1, noiseMultiplier: 1, epsilonBudget: 10 },
        // Far beyond this test's time: the round completes only because A declines at once
        // (a signed SecAgg decline), not at a stage deadline.
        stageTimeoutMs: 600_000,
      }),
    });
    const { roundId, cohort } = await admin.rounds.start.mutate({ modelId: 'fraud-dp' });
    expect(cohort).toBe(3);
    // After the coordinator scheduled it, member A lowers its own cap below one round's cost.
    const set = await a.node.consent.set({ epsilonCaps: { 'fraud-dp': 0.01 } });
    expect(set.synced).toBe(true);
    await Promise.all([once(a), once(b), once(c)]);
    expect(ofRound(a, roundId)).toEqual([
      expect.objectContaining({ type: 'refused', reason: 'budget' }),
    ]);
    const done = await waitForRound(admin, roundId);
    expect(done.status, done.error ?? '').toBe('done');
    for (const t of [b, c]) {
      const spent = t.events.find((e) => e.type === 'privacy-spent' && e.roundId === roundId);
      expect(spent).toBeDefined();
      const s = await t.node.status();
      const p = s.privacy.find((x) => x.modelId === 'fraud-dp');
      expect(p?.rounds).toBe(1);
      expect(p?.epsilon).toBeGreaterThan(0);
    }
    const ledger = await admin.privacy.ledger.query({});
    for (const t of [b, c]) {
      const mine = (await t.node.status()).privacy.find((x) => x.modelId === 'fraud-dp');
      const theirs = ledger.find((r) => r.roundId === roundId && r.memberId === t.node.memberId);
      expect(mine?.epsilon).toBeCloseTo(theirs!.epsilon, 6);
    }
    // A released nothing, so its own ledger is empty (the coordinator's charges the whole
    // sampling population, sampled or not: it is the conservative, complete account).
    expect((await a.node.status()).privacy).toEqual([]);
    // The coordinator mirrors the cap: the next round does not schedule A at all.
    const next = await admin.rounds.start.mutate({ modelId: 'fraud-dp' });
    expect(next.cohort).toBe(2);
    await Promise.all([once(b), once(c)]);
    expect((await waitForRound(admin, next.roundId)).status).toBe('done');
  }, 180_000);
});

describe('distributed DP', () => {
  it('members add the round’s Skellam noise and account the Skellam event', async () => {
    await admin.models.create.mutate({
      id: 'fraud-ddp',
      kind: 'fraud',
      config: smallModelConfig('fraud', {
        dp: { mode: 'distributed', clipNorm: 1, noiseMultiplier: 1, epsilonBudget: 50 },
      }),
    });
    const { roundId, cohort } = await admin.rounds.start.mutate({ modelId: 'fraud-ddp' });
    expect(cohort).toBe(3);
    await Promise.all(nodes.map(once));
    const done = await waitForRound(admin, roundId);
    expect(done.status, done.error ?? '').toBe('done');
    const ledger = await admin.privacy.ledger.query({});
    for (const t of nodes) {
      const p = (await t.node.status()).privacy.find((x) => x.modelId === 'fraud-ddp');
      // The node's own accountant agrees with the coordinator's ledger for this member.
      const theirs = ledger.find(
        (r) => r.modelId === 'fraud-ddp' && r.memberId === t.node.memberId,
      );
      expect(theirs?.mechanism).toBe('skellam');
      expect(p?.epsilon).toBeCloseTo(theirs!.epsilon, 6);
    }
  }, 120_000);
});

describe('consent', () => {
  it('a node whose consent excludes a model is never scheduled for it, and refuses if asked', async () => {
    const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
    await admin.models.create.mutate({
      id: 'fraud',
      kind: 'fraud',
      config: smallModelConfig('fraud', { stageTimeoutMs: 3_000 }),
    });
    // C excludes the model before any round: the coordinator's mirror keeps it out of cohorts.
    const r = await c.node.consent.set({ models: ['demand'] });
    expect(r).toMatchObject({ synced: true, consent: { models: ['demand'] } });
    const first = await admin.rounds.start.mutate({ modelId: 'fraud' });
    expect(first.cohort).toBe(2);
    await Promise.all([once(a), once(b), once(c)]);
    expect(ofRound(c, first.roundId)).toEqual([]);
    expect((await waitForRound(admin, first.roundId)).status).toBe('done');

    // B is scheduled, then withdraws its consent before its node polls: it refuses locally.
    const second = await admin.rounds.start.mutate({ modelId: 'fraud' });
    expect(second.cohort).toBe(2);
    await b.node.consent.set({ models: ['recommendation'] });
    await Promise.all([once(a), once(b)]);
    expect(ofRound(b, second.roundId)).toEqual([
      expect.objectContaining({ type: 'refused', reason: 'consent' }),
    ]);
    // Only A took part: below the model's two members, the round fails cleanly.
    expect((await waitForRound(admin, second.roundId)).status).toBe('failed');
    const status = await b.node.status();
    expect(status.lastRound).toMatchObject({ roundId: second.roundId, outcome: 'refused' });
    expect(status.models.find((m) => m.modelId === 'fraud')?.consented).toBe(false);
  }, 180_000);
});
