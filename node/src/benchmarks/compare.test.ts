import { describe, expect, it } from 'vitest';
import { CoopNodeError } from '../errors';
import { describeBenchmarks } from '../cli/benchmark';
import type { ShopKpis } from './kpis';
import { nodeBenchmarks } from './compare';

const kpisOf = (period: string): ShopKpis => ({
  period,
  periodDays: 30,
  values: { orders: 42, repeat_purchase_rate: 0.25 },
  missing: { forecast_error: 'The node knows no demand model.' },
  attributes: { sizeBand: 'small', mainCategory: 'toys', orders: 42 },
});

describe('nodeBenchmarks', () => {
  it('offline, the shop still sees its own values of the last month, and why the rest is missing', async () => {
    const b = await nodeBenchmarks({
      memberId: 'm1',
      published: () =>
        Promise.reject(
          new CoopNodeError('CoordinatorUnavailable', 'no answer from the coordinator'),
        ),
      kpis: (p) => Promise.resolve(kpisOf(p)),
      now: () => new Date('2026-01-15T12:00:00Z'),
    });
    expect(b).toMatchObject({
      memberId: 'm1',
      published: [],
      coordinatorError: expect.stringContaining('no answer from the coordinator') as unknown,
    });
    expect(b.own.map((o) => o.period)).toEqual(['2025-12']);
    expect(describeBenchmarks(b)).toMatch(
      /^2025-12: the cooperative's figures are unavailable \(.*no answer.*\); your own values:\n {2}Orders +42\n {2}Repeat-purchase rate +25\.0%$/,
    );
  });

  it('any other failure is not hidden', async () => {
    await expect(
      nodeBenchmarks({
        memberId: 'm1',
        published: () => Promise.reject(new CoopNodeError('CoordinatorRejected', 'revoked')),
        kpis: (p) => Promise.resolve(kpisOf(p)),
      }),
    ).rejects.toThrow(/revoked/);
  });
});
