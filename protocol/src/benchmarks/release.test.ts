import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../crypto/random';
import { cryptoReady } from '../crypto/sodium';
import { gaussianVector } from '../dp/gaussian';
import { normalSf } from '../dp/special';
import type { KpiId } from './kpis';
import {
  binEdges,
  binOf,
  formatKpi,
  kpi,
  matchesPeerGroup,
  parsePeriod,
  peerGroupLabel,
  sizeBandOf,
} from './kpis';
import { noiseBound, quarterOf, releaseKpi } from './release';
import { benchmarkDim, benchmarkSensitivity, decodeBenchmark, encodeBenchmark } from './vector';

await cryptoReady();

describe('noiseBound', () => {
  it('known answers: normal quantiles with a union bound', () => {
    expect(noiseBound(1, 0.95, 1)).toBeCloseTo(1.959963984540054, 12);
    expect(noiseBound(1, 0.99, 1)).toBeCloseTo(2.5758293035489, 11);
    // Φ⁻¹(1 − 0.05 / 24) = 2.8652602…: twelve entries, two tails.
    expect(noiseBound(2, 0.95, 12)).toBeCloseTo(2 * 2.86526023, 7);
    expect(noiseBound(0, 0.95, 12)).toBe(0);
  });
  it('is the point where the union bound meets 1 − confidence (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.5, max: 0.9999, noNaN: true }),
        fc.integer({ min: 1, max: 1000 }),
        (conf, k) => {
          const z = noiseBound(1, conf, k);
          expect(2 * k * normalSf(z)).toBeCloseTo(1 - conf, 10);
        },
      ),
    );
  });
  it('rejects bad arguments', () => {
    expect(() => noiseBound(-1, 0.95, 1)).toThrow(/sigma/);
    expect(() => noiseBound(1, 1, 1)).toThrow(/confidence/);
    expect(() => noiseBound(1, 0.9, 0)).toThrow(/entries/);
  });
});

describe('KPI catalogue', () => {
  it('bins span each KPI’s range and every value lands in one', () => {
    for (const id of ['orders', 'repeat_purchase_rate', 'average_order_value'] as const) {
      const k = kpi(id);
      const edges = binEdges(k, 10);
      expect(edges[0]).toBeCloseTo(k.range[0], 9);
      expect(edges[10]).toBeCloseTo(k.range[1], 6);
      fc.assert(
        fc.property(fc.double({ min: k.range[0], max: k.range[1], noNaN: true }), (v) => {
          const b = binOf(k, 10, v);
          expect(v).toBeGreaterThanOrEqual(edges[b]! * (1 - 1e-12));
          expect(v).toBeLessThanOrEqual(edges[b + 1]! * (1 + 1e-12));
        }),
      );
    }
    expect(() => kpi('nps')).toThrow(/unknown KPI "nps" \(known: orders, revenue/);
  });
  it('periods are months, quarters or years, as UTC half-open intervals', () => {
    expect(parsePeriod('2026-10')).toEqual({
      start: new Date('2026-10-01T00:00:00Z'),
      end: new Date('2026-11-01T00:00:00Z'),
      label: '2026-10',
    });
    expect(parsePeriod('2026-Q4').end).toEqual(new Date('2027-01-01T00:00:00Z'));
    expect(parsePeriod('2026').start).toEqual(new Date('2026-01-01T00:00:00Z'));
    expect(() => parsePeriod('2026-13')).toThrow(/not a month \(2026-10\), a quarter/);
  });
  it('size bands and peer-group labels', () => {
    expect(sizeBandOf(99, 30)).toBe('small');
    expect(sizeBandOf(100, 30)).toBe('medium');
    expect(sizeBandOf(3000, 92)).toBe('medium'); // 978 orders per 30 days
    expect(sizeBandOf(1000, 30)).toBe('large');
    expect(peerGroupLabel({})).toBe('cooperative');
    expect(peerGroupLabel({ sizeBand: 'small', category: 'Toys' })).toBe(
      'size small · category toys',
    );
  });
});

const layout = {
  kpis: ['average_order_value', 'repeat_purchase_rate', 'fraud_rate'] as KpiId[],
  bins: 8,
};

describe('benchmark vectors', () => {
  it('the sum of members’ vectors decodes to counts, sums and histograms (property)', () => {
    const shop = fc.record({
      average_order_value: fc.option(fc.double({ min: -10, max: 5000, noNaN: true }), {
        nil: undefined,
      }),
      repeat_purchase_rate: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), {
        nil: undefined,
      }),
      fraud_rate: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(shop, { minLength: 1, maxLength: 20 }), (shops) => {
        const sum = new Float64Array(benchmarkDim(layout));
        for (const s of shops) {
          const v = encodeBenchmark(layout, s);
          // Each member's vector is within the sensitivity the noise is calibrated to.
          expect(Math.hypot(...v)).toBeLessThanOrEqual(benchmarkSensitivity(layout) + 1e-12);
          v.forEach((x, i) => (sum[i]! += x));
        }
        const decoded = decodeBenchmark(layout, sum);
        layout.kpis.forEach((id, i) => {
          const k = kpi(id);
          const contributing = shops
            .map((s) => s[id as keyof typeof s])
            .filter((v) => v !== undefined);
          expect(decoded[i]!.count).toBe(contributing.length);
          const [lo, hi] = k.range;
          const expected = contributing.reduce(
            (a, v) => a + (Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo),
            0,
          );
          expect(decoded[i]!.normalisedSum).toBeCloseTo(expected, 9);
          const hist = new Array<number>(layout.bins).fill(0);
          for (const v of contributing) hist[binOf(k, layout.bins, v)]!++;
          expect(decoded[i]!.histogram).toEqual(hist);
        });
      }),
    );
  });
  it('rejects non-finite values and sums of the wrong length', () => {
    expect(() => encodeBenchmark(layout, { fraud_rate: NaN })).toThrow(/KPI fraud_rate: value NaN/);
    expect(() => decodeBenchmark(layout, new Float64Array(5))).toThrow(/has 30 entries, got 5/);
  });
});

describe('releaseKpi', () => {
  const k = kpi('repeat_purchase_rate');
  it('known answer: mean, quartiles and histogram of an exact sum', () => {
    const r = releaseKpi(
      { kpi: 'repeat_purchase_rate', count: 6, normalisedSum: 1.8, histogram: [0, 0, 3, 3, 0] },
      { sigma: 0, minContributors: 5, bins: 5 },
    );
    expect(r.status).toBe('released');
    expect(r.mean).toBeCloseTo(0.3, 12);
    expect(r.meanInterval).toEqual([r.mean, r.mean]);
    // Three values in [0.4, 0.6) and three in [0.6, 0.8), spread evenly within each bin.
    r.quartiles!.forEach((q, i) => expect(q).toBeCloseTo([0.5, 0.6, 0.7][i]!, 12));
    expect(r.histogram).toEqual([0, 0, 3, 3, 0]);
    expect(r.edges).toHaveLength(6);
    expect(r.contributors).toBe(6);
  });
  it('withholds below the minimum, naming the rule, and publishes no figure', () => {
    const r = releaseKpi(
      { kpi: 'average_order_value', count: 3, normalisedSum: 0.5, histogram: [1, 1, 1] },
      { sigma: 0, minContributors: 5, bins: 3 },
    );
    expect(r).toMatchObject({
      status: 'withheld',
      mean: null,
      quartiles: null,
      histogram: [],
      edges: [],
    });
    expect(r.reason).toBe(
      'Average order value: 3 contributors, the minimum is 5 (minContributors)',
    );
  });
  it('decides on the count it publishes: a noisy 4.6 is 5 contributors (released), 4.4 is 4', () => {
    const agg = { kpi: 'fraud_rate' as const, normalisedSum: 0.5, histogram: [3, 2] };
    const opts = { sigma: 1, minContributors: 5, bins: 2 };
    expect(releaseKpi({ ...agg, count: 4.6 }, opts)).toMatchObject({
      status: 'released',
      contributors: 5,
    });
    expect(releaseKpi({ ...agg, count: 4.4 }, opts)).toMatchObject({
      status: 'withheld',
      contributors: 4,
      reason: expect.stringMatching(/4 contributors \(noisy count\), the minimum is 5/) as unknown,
    });
  });
  it('rejects malformed sums', () => {
    const agg = { kpi: 'fraud_rate' as const, count: 6, normalisedSum: NaN, histogram: [6, 0] };
    expect(() => releaseKpi(agg, { sigma: 1, minContributors: 5, bins: 2 })).toThrow(/non-finite/);
    expect(() =>
      releaseKpi({ ...agg, normalisedSum: 1 }, { sigma: 1, minContributors: 5, bins: 3 }),
    ).toThrow(/histogram has 2 bins, expected 3/);
  });
  it('its mean interval holds the noise-free mean whenever the noise is within the bound (property)', () => {
    const noisyRun = fc.record({
      values: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 5, maxLength: 60 }),
      sigma: fc.double({ min: 0, max: 5, noNaN: true }),
      unit: fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 12, maxLength: 12 }),
    });
    fc.assert(
      fc.property(noisyRun, ({ values, sigma, unit }) => {
        const bins = 10;
        const b = noiseBound(sigma, 0.95, bins + 2);
        const hist = new Array<number>(bins).fill(0);
        for (const v of values) hist[binOf(k, bins, v)]!++;
        const clean = values.reduce((a, v) => a + v, 0) / values.length;
        const r = releaseKpi(
          {
            kpi: 'repeat_purchase_rate',
            count: values.length + b * unit[0]!,
            normalisedSum: values.reduce((a, v) => a + v, 0) + b * unit[1]!,
            histogram: hist.map((c, i) => c + b * unit[2 + i]!),
          },
          // Released whatever the noisy count: this property is about the intervals.
          { sigma, minContributors: -Infinity, bins },
        );
        expect(r.noiseBound).toBe(b);
        expect(r.meanInterval![0]).toBeLessThanOrEqual(clean + 1e-12);
        expect(r.meanInterval![1]).toBeGreaterThanOrEqual(clean - 1e-12);
        const cleanQ = releaseKpi(
          { kpi: 'repeat_purchase_rate', count: values.length, normalisedSum: 0, histogram: hist },
          { sigma: 0, minContributors: 0, bins },
        ).quartiles!;
        r.quartileIntervals!.forEach(([lo, hi], i) => {
          expect(lo).toBeLessThanOrEqual(cleanQ[i]!);
          expect(hi).toBeGreaterThanOrEqual(cleanQ[i]!);
        });
      }),
      { numRuns: 300 },
    );
  });
  it('under Gaussian noise every interval of a KPI holds together at the stated confidence', () => {
    const rng = seededRandom(11);
    const bins = 10;
    const values = Array.from({ length: 40 }, (_, i) => (i % 13) / 13);
    const hist = new Array<number>(bins).fill(0);
    for (const v of values) hist[binOf(k, bins, v)]!++;
    const S = values.reduce((a, v) => a + v, 0);
    const clean = releaseKpi(
      { kpi: 'repeat_purchase_rate', count: values.length, normalisedSum: S, histogram: hist },
      { sigma: 0, minContributors: 0, bins },
    );
    let held = 0;
    const trials = 1000;
    for (let t = 0; t < trials; t++) {
      const e = gaussianVector(rng, { length: bins + 2, stddev: 3 });
      const r = releaseKpi(
        {
          kpi: 'repeat_purchase_rate',
          count: values.length + e[0]!,
          normalisedSum: S + e[1]!,
          histogram: hist.map((c, i) => c + e[2 + i]!),
        },
        { sigma: 3, minContributors: -Infinity, bins },
      );
      const inside = (iv: readonly [number, number], x: number) => iv[0] <= x && x <= iv[1];
      if (
        inside(r.meanInterval!, clean.mean!) &&
        r.quartileIntervals!.every((iv, i) => inside(iv, clean.quartiles![i]!))
      ) {
        held++;
      }
    }
    expect(held / trials).toBeGreaterThanOrEqual(0.95);
  });
});

describe('reading a shop against the cooperative', () => {
  it('quarterOf: a value on a quartile counts to the quarter above', () => {
    const q = [10, 20, 30] as const;
    expect([9.99, 10, 19.99, 20, 29.99, 30, 1e9].map((v) => quarterOf(v, q))).toEqual([
      1, 2, 2, 3, 3, 4, 4,
    ]);
  });

  it('matchesPeerGroup: every rule given must hold; categories compare case-insensitively', () => {
    const shop = { sizeBand: 'small', mainCategory: 'toys' };
    expect(matchesPeerGroup(shop, {})).toBe(true);
    expect(matchesPeerGroup(shop, { sizeBand: 'small', category: 'Toys' })).toBe(true);
    expect(matchesPeerGroup(shop, { sizeBand: 'medium' })).toBe(false);
    expect(matchesPeerGroup({ ...shop, mainCategory: null }, { category: 'toys' })).toBe(false);
  });

  it('formatKpi: by unit', () => {
    expect(formatKpi('repeat_purchase_rate', 0.4567)).toBe('45.7%');
    expect(formatKpi('orders', 12345.6)).toBe('12,346');
    expect(formatKpi('average_order_value', 1234.5)).toBe('1,234.50');
    expect(formatKpi('fraud_pr_auc', 0.81234)).toBe('0.812');
    expect(formatKpi('orders', null)).toBe('—');
    expect(formatKpi('orders', NaN)).toBe('—');
  });
});
