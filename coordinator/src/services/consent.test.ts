import { describe, expect, it } from 'vitest';
import { ConsentSchema, StoredConsentSchema, allowsModel } from './consent';

describe('consent', () => {
  it('refuses a KPI id outside the catalogue, naming it and the known ones', () => {
    const r = ConsentSchema.safeParse({ kpis: ['orders', 'aov'] });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]).toMatchObject({
      path: ['kpis'],
      message: expect.stringMatching(/^unknown KPI "aov" \(known: orders, revenue, /) as unknown,
    });
    expect(ConsentSchema.parse({ kpis: ['orders'] })).toMatchObject({ kpis: ['orders'] });
  });

  it('reads a stored record with a retired KPI id by dropping that id only', () => {
    const stored = {
      models: ['demand'],
      kpis: ['orders', 'retired_kpi'],
      epsilonCaps: { demand: 2 },
    };
    expect(StoredConsentSchema.parse(stored)).toEqual({
      models: ['demand'],
      kpis: ['orders'],
      epsilonCaps: { demand: 2 },
    });
    expect(allowsModel(StoredConsentSchema.parse(stored), { id: 'demand', kind: 'demand' })).toBe(
      true,
    );
  });
});
