import { describe, expect, it } from 'vitest';
import { asDelta, asEpsilon, nodeId } from '../brand';
import { isProtocolError } from '../errors';
import { tighterEpsilon } from './accountant';
import type { PrivacyBudget, PrivacyEvent } from './ledger';
import { PrivacyEventSchema, PrivacyLedger } from './ledger';

const round = (memberId: string, over: Partial<Record<string, unknown>> = {}): PrivacyEvent =>
  PrivacyEventSchema.parse({
    modelId: 'demand',
    memberId,
    unit: 'member',
    at: '2025-03-01T12:00:00Z',
    mechanism: 'gaussian',
    noiseMultiplier: 1.0,
    samplingRate: 0.2,
    steps: 1,
    ...over,
  });

const budget: PrivacyBudget = { epsilon: asEpsilon(8), delta: asDelta(1e-5), unit: 'member' };

describe('PrivacyEventSchema', () => {
  it('parses both mechanisms and rejects malformed lines', () => {
    expect(round('shop-1').mechanism).toBe('gaussian');
    const sk = PrivacyEventSchema.parse({
      modelId: 'fraud',
      memberId: 'shop-1',
      unit: 'member',
      at: '2025-03-01T12:00:00+02:00',
      mechanism: 'skellam',
      skellam: { mu: 5e5, l2Sensitivity: 1000, l1Sensitivity: 1e6 },
      samplingRate: 1,
      steps: 1,
    });
    expect(sk.mechanism).toBe('skellam');
    expect(() => round('shop-1', { unit: 'shop' })).toThrow();
    expect(() => round('shop-1', { samplingRate: 0 })).toThrow(/samplingRate/);
    expect(() => round('shop-1', { noiseMultiplier: -1 })).toThrow(/noise multiplier/);
    expect(() => round('shop-1', { at: 'yesterday' })).toThrow();
  });
});

describe('PrivacyLedger', () => {
  const history = Array.from({ length: 10 }, () => round('shop-1')).concat(
    Array.from({ length: 3 }, () => round('shop-2')),
    [round('shop-1', { unit: 'record', noiseMultiplier: 0.8, samplingRate: 0.01, steps: 500 })],
  );
  const ledger = new PrivacyLedger({ delta: asDelta(1e-5), events: history });

  it('computes ε per (model, member, unit) with the tighter accountant', () => {
    const s1 = ledger.spent({ modelId: 'demand', memberId: nodeId('shop-1'), unit: 'member' });
    const want = tighterEpsilon({ events: history.slice(0, 10), delta: 1e-5 });
    expect(s1.epsilon).toBe(want.epsilon);
    expect(s1.accountant).toBe(want.accountant);
    expect(s1.unit).toBe('member');
    expect(s1.events).toBe(10);
    const s2 = ledger.spent({ modelId: 'demand', memberId: nodeId('shop-2'), unit: 'member' });
    expect(s2.epsilon).toBeLessThan(s1.epsilon);
    const none = ledger.spent({ modelId: 'fraud', memberId: nodeId('shop-1'), unit: 'member' });
    expect(none.epsilon).toBe(0);
  });

  it('never mixes privacy units', () => {
    const rec = ledger.spent({ modelId: 'demand', memberId: nodeId('shop-1'), unit: 'record' });
    expect(rec.events).toBe(1);
    expect(rec.unit).toBe('record');
    const reports = ledger.reports();
    expect(reports.map((r) => `${r.memberId}/${r.unit}`).sort()).toEqual([
      'shop-1/member',
      'shop-1/record',
      'shop-2/member',
    ]);
  });

  it('says whether a proposed round would exceed the budget, before it starts', () => {
    const ok = ledger.wouldExceed(budget, round('shop-2'));
    expect(ok.exceeds).toBe(false);
    expect(ok.epsilonAfter).toBeGreaterThan(ok.epsilonBefore);
    const tight = { ...budget, epsilon: asEpsilon(ok.epsilonBefore) };
    expect(ledger.wouldExceed(tight, round('shop-2')).exceeds).toBe(true);
    expect(() => ledger.assertWithinBudget(tight, round('shop-2'))).toThrow(/BudgetExceeded/);
    try {
      ledger.assertWithinBudget(tight, round('shop-2'));
    } catch (e) {
      expect(isProtocolError(e, 'BudgetExceeded')).toBe(true);
      expect((e as Error).message).toContain('member-level');
    }
  });

  it('refuses a budget and an event in different units', () => {
    try {
      ledger.wouldExceed(budget, round('shop-1', { unit: 'record' }));
      expect.unreachable();
    } catch (e) {
      expect(isProtocolError(e, 'PrivacyUnitMismatch')).toBe(true);
    }
  });

  it('is immutable: with() returns a new ledger', () => {
    const next = ledger.with(round('shop-2'));
    expect(next.events.length).toBe(ledger.events.length + 1);
    expect(
      ledger.spent({ modelId: 'demand', memberId: nodeId('shop-2'), unit: 'member' }).events,
    ).toBe(3);
    expect(
      next.spent({ modelId: 'demand', memberId: nodeId('shop-2'), unit: 'member' }).events,
    ).toBe(4);
    expect(
      next.spent({ modelId: 'demand', memberId: nodeId('shop-2'), unit: 'member' }).epsilon,
    ).toBe(ledger.wouldExceed(budget, round('shop-2')).epsilonAfter);
  });

  it('checks a whole cohort with identical histories quickly (memoised)', () => {
    const cohort = Array.from({ length: 200 }, (_, i) => `m${i}`);
    const big = new PrivacyLedger({
      delta: asDelta(1e-5),
      events: cohort.flatMap((m) => Array.from({ length: 20 }, () => round(m))),
    });
    const t0 = performance.now();
    for (const m of cohort) big.wouldExceed(budget, round(m));
    expect(performance.now() - t0).toBeLessThan(3000);
  });
});
