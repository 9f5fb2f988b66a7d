import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeId } from '@coopfl/protocol';
import { cryptoReady, identityKeyPair, nodeId, roundId, seededRandom } from '@coopfl/protocol';
import { defaultArchitecture } from '@coopfl/protocol/models';
import { ModelConfigSchema } from '@coopfl/coordinator';
import type { NodeClient, RoundConfig } from '@coopfl/coordinator/client';
import type { OpenedStore } from '../store/open';
import { MEMORY_STORE, openStore } from '../store/open';
import { Backoff } from './backoff';
import type { NodeEvent } from './events';
import type { TaskContext } from './participate';
import { epsilonLimits } from '@coopfl/coordinator/client';
import { privacySpent } from '../store/schema';
import { checkTask, roundPrivacyEvent, runTask } from './participate';
import { recordRound, recordMemberEvent, roundRecord, writeConsent } from './state';

/**
 * The node's local decisions without a coordinator: consent and budget checks, the refusal of a
 * round it cannot join correctly (restart after advertising), and the retry schedule.
 */
let store: OpenedStore;
const me: NodeId = nodeId('member-1');

function roundConfig(over: { modelId?: string; dp?: object; kind?: 'train' | 'eval' } = {}) {
  const model = ModelConfigSchema.parse({
    architecture: defaultArchitecture('fraud', { hidden: 8 }),
    ...(over.dp ? { dp: over.dp } : {}),
  });
  return {
    roundId: roundId(`r-${Math.round(performance.now() * 1000)}`),
    modelId: over.modelId ?? 'fraud',
    kind: over.kind ?? 'train',
    baseVersion: 0,
    secagg: {
      clients: [],
      dim: 1,
      clipRange: 1,
      maxWeight: 1,
      neighbors: 1,
      threshold: 1,
      minSurvivors: 2,
      noiseHeadroom: 0,
    },
    model,
    population: [me],
    metrics: [],
  } as RoundConfig;
}

beforeAll(async () => {
  await cryptoReady();
  store = await openStore(MEMORY_STORE);
}, 60_000);
afterAll(() => store.close());

describe('checkTask', () => {
  it('refuses a model outside the consent, by id or kind', async () => {
    await writeConsent(store.db, { models: ['demand'] });
    await expect(checkTask(store.db, me, roundConfig())).rejects.toMatchObject({
      reason: 'consent',
    });
    await writeConsent(store.db, { models: ['fraud'] }); // the kind allows any fraud model
    await expect(
      checkTask(store.db, me, roundConfig({ modelId: 'fraud-eu' })),
    ).resolves.toMatchObject({ kind: 'fraud' });
  });

  it('refuses a DP round its own ε cap or the cooperative budget cannot afford', async () => {
    const dp = { mode: 'central', clipNorm: 1, noiseMultiplier: 1, epsilonBudget: 10 };
    await writeConsent(store.db, {});
    const ok = await checkTask(store.db, me, roundConfig({ dp }));
    expect(ok.privacy).toMatchObject({ mechanism: 'gaussian', unit: 'member', memberId: me });
    await writeConsent(store.db, { epsilonCaps: { fraud: 0.05 } });
    await expect(checkTask(store.db, me, roundConfig({ dp }))).rejects.toMatchObject({
      reason: 'budget',
    });
    // Past rounds count: with a roomy cap, enough recorded spending exhausts it.
    await writeConsent(store.db, { epsilonCaps: { fraud: 3 } });
    for (let i = 0; i < 30; i++) {
      await recordMemberEvent(store.db, ok.privacy!, `past-${i}`, 0, 1e-5);
    }
    await expect(checkTask(store.db, me, roundConfig({ dp }))).rejects.toMatchObject({
      reason: 'budget',
    });
    // Evaluation rounds spend nothing (the coordinator accounts training rounds only).
    await expect(
      checkTask(store.db, me, roundConfig({ dp, kind: 'eval' })),
    ).resolves.not.toHaveProperty('privacy');
  });

  it('limits: the cooperative budget, and the own cap (id before kind) over its period', () => {
    const model = { id: 'fraud-eu', kind: 'fraud', budget: 5 };
    const now = new Date('2026-06-01T00:00:00Z');
    expect(epsilonLimits({ kpis: [], epsilonCaps: {} }, model, now)).toEqual([
      { epsilon: 5, label: 'the cooperative budget' },
    ]);
    expect(epsilonLimits({ kpis: [], epsilonCaps: { fraud: 2 } }, model, now)[1]).toEqual({
      epsilon: 2,
      label: "the member's own cap",
    });
    const yearly = epsilonLimits(
      { kpis: [], epsilonCaps: { fraud: 2, 'fraud-eu': 9 }, epsilonPeriodDays: 365 },
      model,
      now,
    )[1]!;
    expect(yearly.epsilon).toBe(9);
    expect(yearly.since).toEqual(new Date('2025-06-01T00:00:00Z'));
  });

  it('a cap per period counts only the period’s rounds; the cooperative budget counts all', async () => {
    const dp = { mode: 'central' as const, noiseMultiplier: 3, epsilonBudget: 100 };
    const rc = roundConfig({ dp });
    const event = roundPrivacyEvent(rc, me)!;
    // Two years ago the shop spent a lot; this year nothing yet.
    await store.db.delete(privacySpent);
    for (let i = 0; i < 30; i++) {
      await recordMemberEvent(
        store.db,
        { ...event, at: '2024-01-01T00:00:00Z' },
        `old-${i}`,
        1,
        1e-5,
      );
    }
    await writeConsent(store.db, { kpis: [], epsilonCaps: { [rc.modelId]: 3 } });
    await expect(checkTask(store.db, me, rc)).rejects.toMatchObject({ reason: 'budget' });
    await writeConsent(store.db, {
      kpis: [],
      epsilonCaps: { [rc.modelId]: 3 },
      epsilonPeriodDays: 365,
    });
    await expect(checkTask(store.db, me, rc)).resolves.toHaveProperty('privacy');
  });
});

describe('runTask', () => {
  const events: NodeEvent[] = [];
  const ctx = (): TaskContext => ({
    db: store.db,
    memberId: me,
    identity: identityKeyPair(),
    client: {} as NodeClient, // never reached: these tasks are declined before any request
    runtimes: {},
    prepared: () => Promise.reject(new Error('not reached')),
    kpis: () => Promise.reject(new Error('not reached')),
    random: seededRandom(1),
    onEvent: (e) => events.push(e),
    channelPollMs: 1000,
  });

  it('declines a round already past advertising (its SecAgg keys cannot be made up later)', async () => {
    const rc = roundConfig();
    await runTask(ctx(), { round: rc, clientIndex: 0, stage: 'shares' });
    expect(events.at(-1)).toMatchObject({ type: 'refused', reason: 'late', roundId: rc.roundId });
    expect(await roundRecord(store.db, rc.roundId)).toMatchObject({ outcome: 'refused' });
  });

  it('after a restart, declines a round an earlier process already joined', async () => {
    const rc = roundConfig();
    await recordRound(store.db, {
      roundId: rc.roundId,
      modelId: 'fraud',
      kind: 'train',
      outcome: 'joined',
    });
    await runTask(ctx(), { round: rc, clientIndex: 0, stage: 'advertise' });
    expect(events.at(-1)).toMatchObject({ type: 'refused', reason: 'late' });
    // The record of having joined is kept (not overwritten by the refusal).
    expect(await roundRecord(store.db, rc.roundId)).toMatchObject({ outcome: 'joined' });
  });
});

describe('Backoff', () => {
  it('doubles up to the cap with jitter in [d/2, d), and restarts after a success', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, random: seededRandom(7) });
    const delays = Array.from({ length: 8 }, () => b.next());
    const caps = [100, 200, 400, 800, 1000, 1000, 1000, 1000];
    delays.forEach((d, i) => {
      expect(d).toBeGreaterThanOrEqual(caps[i]! / 2);
      expect(d).toBeLessThanOrEqual(caps[i]!);
    });
    b.reset();
    expect(b.next()).toBeLessThanOrEqual(100);
  });
});
