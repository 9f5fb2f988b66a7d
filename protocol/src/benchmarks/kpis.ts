import { z } from 'zod';

/**
 * The cooperative's benchmark KPIs: the one place they are defined. Every node computes them the
 * same way from its store database for a period (`node/src/benchmarks`), the coordinator releases
 * them by secure aggregation with member-level DP, and the dashboard and CLIs print these labels
 * and definitions.
 *
 * `range` bounds what one shop may contribute to the mean (values are clamped into it) and spans
 * the histogram used for quartiles; `scale: 'log'` spaces the bins geometrically (sizes and
 * amounts), `'linear'` evenly (rates and scores).
 */
export interface KpiDefinition {
  readonly id: string;
  readonly label: string;
  readonly unit: 'count' | 'money' | 'ratio' | 'items' | 'score';
  readonly definition: string;
  readonly range: readonly [number, number];
  readonly scale: 'linear' | 'log';
  /** Whether a higher value is better for the shop (for the dashboard's colouring). */
  readonly higherIsBetter: boolean | null;
}

export const KPIS = [
  {
    id: 'orders',
    label: 'Orders',
    unit: 'count',
    definition: 'Orders placed in the period, cancelled ones included.',
    range: [1, 100_000],
    scale: 'log',
    higherIsBetter: true,
  },
  {
    id: 'revenue',
    label: 'Revenue',
    unit: 'money',
    definition:
      'Sum of order totals in the period (an order without a total counts its items: quantity × unit price), cancelled and refunded orders excluded, in the shop’s currency.',
    range: [10, 10_000_000],
    scale: 'log',
    higherIsBetter: true,
  },
  {
    id: 'average_order_value',
    label: 'Average order value',
    unit: 'money',
    definition: 'Revenue ÷ orders that count towards revenue (not cancelled or refunded).',
    range: [1, 2_000],
    scale: 'log',
    higherIsBetter: true,
  },
  {
    id: 'items_per_order',
    label: 'Items per order',
    unit: 'items',
    definition: 'Units (sum of item quantities) ÷ orders, over the period’s orders with items.',
    range: [1, 50],
    scale: 'log',
    higherIsBetter: true,
  },
  {
    id: 'repeat_purchase_rate',
    label: 'Repeat-purchase rate',
    unit: 'ratio',
    definition:
      'Share of the customers who ordered in the period that had ordered before: two or more orders in the period, or one before it.',
    range: [0, 1],
    scale: 'linear',
    higherIsBetter: true,
  },
  {
    id: 'retention_90d',
    label: '90-day retention',
    unit: 'ratio',
    definition:
      'Share of the customers whose first order fell in the period that ordered again within 90 days of it (as far as the store’s data reaches).',
    range: [0, 1],
    scale: 'linear',
    higherIsBetter: true,
  },
  {
    id: 'cancellation_rate',
    label: 'Cancellation / refund rate',
    unit: 'ratio',
    definition:
      'Share of the period’s orders whose status is cancelled, canceled, refunded, returned or voided.',
    range: [0, 1],
    scale: 'linear',
    higherIsBetter: false,
  },
  {
    id: 'fraud_rate',
    label: 'Fraud / chargeback rate',
    unit: 'ratio',
    definition:
      'Share of the period’s labelled orders (payments with a fraud or chargeback label) labelled fraudulent.',
    range: [0, 1],
    scale: 'linear',
    higherIsBetter: false,
  },
  {
    id: 'top_category_share',
    label: 'Revenue share of top 3 categories',
    unit: 'ratio',
    definition:
      'Share of the period’s item revenue (quantity × unit price) from the shop’s three largest categories: how concentrated its range is.',
    range: [0, 1],
    scale: 'linear',
    higherIsBetter: null,
  },
  {
    id: 'forecast_error',
    label: 'Forecast error (WAPE)',
    unit: 'score',
    definition:
      'WAPE of the shared demand model’s latest version on the shop’s own held-out days (Σ|actual − forecast| ÷ Σ actual).',
    range: [0, 2],
    scale: 'linear',
    higherIsBetter: false,
  },
  {
    id: 'recommendation_ndcg',
    label: 'Recommendation NDCG@10',
    unit: 'score',
    definition:
      'NDCG@10 of the shared recommendation model’s latest version on the shop’s own held-out last purchases.',
    range: [0, 1],
    scale: 'linear',
    higherIsBetter: true,
  },
  {
    id: 'fraud_pr_auc',
    label: 'Fraud model PR-AUC',
    unit: 'score',
    definition:
      'PR-AUC of the shared fraud model’s latest version on the shop’s own held-out labelled orders.',
    range: [0, 1],
    scale: 'linear',
    higherIsBetter: true,
  },
] as const satisfies readonly KpiDefinition[];

export type KpiId = (typeof KPIS)[number]['id'];
export const KPI_IDS = KPIS.map((k) => k.id) as readonly KpiId[];
export const KpiIdSchema = z.enum(KPI_IDS as [KpiId, ...KpiId[]]);

const byId = new Map<string, KpiDefinition>(KPIS.map((k) => [k.id, k]));

/** Whether `id` names a KPI of the catalogue. */
export const isKpiId = (id: string): id is KpiId => byId.has(id);

/** `unknown KPI "a", "b" (known: …)` for the ids outside the catalogue; null when all are known. */
export function unknownKpisMessage(ids: readonly string[]): string | null {
  const unknown = ids.filter((id) => !isKpiId(id));
  return unknown.length === 0
    ? null
    : `unknown KPI ${unknown.map((k) => `"${k}"`).join(', ')} (known: ${KPI_IDS.join(', ')})`;
}

/** The definition of a KPI; throws naming the unknown id and the known ones. */
export function kpi(id: string): KpiDefinition {
  const k = byId.get(id);
  if (!k) throw new Error(unknownKpisMessage([id])!);
  return k;
}

/**
 * A KPI value as people read it: ratios as percentages, counts whole, money and items with two
 * decimals (money in the shop's currency), scores with three; `—` for none.
 */
export function formatKpi(id: string, v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  switch (kpi(id).unit) {
    case 'ratio':
      return `${(v * 100).toFixed(1)}%`;
    case 'count':
      return Math.round(v).toLocaleString('en-US');
    case 'score':
      return v.toFixed(3);
    case 'money':
    case 'items':
      return v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }
}

/** Histogram bin edges of a KPI (`bins + 1` ascending values spanning its range). */
export function binEdges(k: KpiDefinition, bins: number): number[] {
  const [lo, hi] = k.range;
  return Array.from({ length: bins + 1 }, (_, i) =>
    k.scale === 'log' ? lo * (hi / lo) ** (i / bins) : lo + ((hi - lo) * i) / bins,
  );
}

/** The bin a (clamped) value falls in: 0 … bins − 1. */
export function binOf(k: KpiDefinition, bins: number, value: number): number {
  const [lo, hi] = k.range;
  const v = Math.min(hi, Math.max(lo, value));
  const t = k.scale === 'log' ? Math.log(v / lo) / Math.log(hi / lo) : (v - lo) / (hi - lo);
  return Math.min(bins - 1, Math.max(0, Math.floor(t * bins)));
}

/**
 * A benchmark period: a month (`2026-10`), a quarter (`2026-Q4`) or a year (`2026`), as the
 * half-open UTC interval [start, end).
 */
export function parsePeriod(period: string): { start: Date; end: Date; label: string } {
  let m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(period);
  if (m) {
    const y = Number(m[1]);
    const mo = Number(m[2]) - 1;
    return {
      start: new Date(Date.UTC(y, mo, 1)),
      end: new Date(Date.UTC(y, mo + 1, 1)),
      label: period,
    };
  }
  m = /^(\d{4})-Q([1-4])$/.exec(period);
  if (m) {
    const y = Number(m[1]);
    const q = Number(m[2]) - 1;
    return {
      start: new Date(Date.UTC(y, 3 * q, 1)),
      end: new Date(Date.UTC(y, 3 * q + 3, 1)),
      label: period,
    };
  }
  m = /^(\d{4})$/.exec(period);
  if (m) {
    const y = Number(m[1]);
    return {
      start: new Date(Date.UTC(y, 0, 1)),
      end: new Date(Date.UTC(y + 1, 0, 1)),
      label: period,
    };
  }
  throw new Error(
    `period "${period}" is not a month (2026-10), a quarter (2026-Q4) or a year (2026)`,
  );
}

/** `YYYY-MM` of the month before `now` (UTC). */
export function previousMonth(now: Date): string {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

export const PeriodSchema = z.string().refine(
  (p) => {
    try {
      parsePeriod(p);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'a period is a month (2026-10), a quarter (2026-Q4) or a year (2026)' },
);

/** Shop size bands for peer groups, by orders per 30 days in the period. */
export const SIZE_BANDS = ['small', 'medium', 'large'] as const;
export type SizeBand = (typeof SIZE_BANDS)[number];
export function sizeBandOf(orders: number, periodDays: number): SizeBand {
  const per30 = (orders * 30) / Math.max(periodDays, 1);
  return per30 < 100 ? 'small' : per30 < 1000 ? 'medium' : 'large';
}

/**
 * A peer group: only shops matching it contribute (each node decides for itself, so the
 * coordinator never learns which shop is in which group). Empty: the whole cooperative.
 */
export const PeerGroupSchema = z
  .object({
    sizeBand: z.enum(SIZE_BANDS).optional(),
    /** The shop's main category (largest share of item revenue), compared case-insensitively. */
    category: z.string().min(1).max(100).optional(),
  })
  .strict();
export type PeerGroup = z.infer<typeof PeerGroupSchema>;

/** Whether a shop with these attributes belongs to the peer group (an empty group: everyone). */
export function matchesPeerGroup(
  a: { sizeBand: string; mainCategory: string | null },
  g: PeerGroup,
): boolean {
  return (
    (g.sizeBand === undefined || g.sizeBand === a.sizeBand) &&
    (g.category === undefined || g.category.toLowerCase() === a.mainCategory)
  );
}

/** A readable name of a peer group (`cooperative`, `size small`, `size small · category toys`). */
export function peerGroupLabel(g: PeerGroup): string {
  const parts = [
    g.sizeBand ? `size ${g.sizeBand}` : null,
    g.category ? `category ${g.category.toLowerCase()}` : null,
  ].filter((p): p is string => p !== null);
  return parts.length === 0 ? 'cooperative' : parts.join(' · ');
}
