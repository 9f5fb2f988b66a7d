import type { PublishedBenchmark } from '@coopfl/coordinator/client';
import type { KpiId, KpiRelease } from '@coopfl/protocol/benchmarks';
import {
  KPI_IDS,
  PeriodSchema,
  kpi,
  matchesPeerGroup,
  parsePeriod,
  previousMonth,
  quarterOf,
} from '@coopfl/protocol/benchmarks';
import { CoopNodeError, isCoopNodeError } from '../errors';
import type { ShopKpis } from './kpis';

/** The shop's own KPIs of one period, with the published peer groups it belongs to. */
export interface OwnBenchmarks {
  period: string;
  periodDays: number;
  values: ShopKpis['values'];
  missing: ShopKpis['missing'];
  /** Labels of the published peer groups of this period the shop belongs to. */
  peerGroups: string[];
}

/**
 * What the node's `GET /benchmarks` answers: the shop's own values (computed here, on the node,
 * and only ever sent to the shop's own browser or CLI) beside the cooperative's published figures.
 */
export interface NodeBenchmarks {
  memberId: string;
  own: OwnBenchmarks[];
  published: PublishedBenchmark[];
  /** Why the published figures are missing (the coordinator could not be reached), if so. */
  coordinatorError?: string;
}

/** Where {@link nodeBenchmarks} reads from. */
export interface NodeBenchmarkSources {
  memberId: string;
  /** The coordinator's published benchmarks (optionally of one period). */
  published(period?: string): Promise<PublishedBenchmark[]>;
  kpis(period: string): Promise<ShopKpis>;
  /** The clock (tests). */
  now?: () => Date;
}

/** Most periods computed for one answer (each costs a few aggregate queries on the store). */
export const MAX_PERIODS = 24;

/**
 * The shop's own KPIs for `period`, or for every period the cooperative has published benchmarks
 * of (newest first, at most {@link MAX_PERIODS}), beside those published figures.
 *
 * @throws CoopNodeError `InvalidArgument` for a malformed period (from `parsePeriod`).
 */
export async function nodeBenchmarks(
  src: NodeBenchmarkSources,
  period?: string,
): Promise<NodeBenchmarks> {
  if (period !== undefined && !PeriodSchema.safeParse(period).success) {
    throw new CoopNodeError(
      'InvalidArgument',
      'period must be a month (2026-10), a quarter (2026-Q4) or a year (2026)',
    );
  }
  let published: PublishedBenchmark[] = [];
  let coordinatorError: string | undefined;
  try {
    published = await src.published(period);
  } catch (err) {
    // Offline, the shop still sees its own figures (for the period asked, or the last month).
    if (!(isCoopNodeError(err) && err.code === 'CoordinatorUnavailable')) throw err;
    coordinatorError = err.message;
  }
  const periods =
    period !== undefined
      ? [period]
      : coordinatorError !== undefined
        ? [previousMonth(src.now?.() ?? new Date())]
        : [...new Set(published.map((r) => r.period))]
            .sort((a, b) => parsePeriod(b).start.getTime() - parsePeriod(a).start.getTime())
            .slice(0, MAX_PERIODS);
  const own: OwnBenchmarks[] = [];
  for (const p of periods) {
    const k = await src.kpis(p);
    const groups = published
      .filter((r) => r.period === p && matchesPeerGroup(k.attributes, r.group))
      .map((r) => r.peerGroup);
    own.push({
      period: p,
      periodDays: k.periodDays,
      values: k.values,
      missing: k.missing,
      peerGroups: [...new Set(groups)],
    });
  }
  return {
    memberId: src.memberId,
    own,
    published,
    ...(coordinatorError === undefined ? {} : { coordinatorError }),
  };
}

/** One KPI of one run: the shop's value against the released figures. */
export interface KpiComparison {
  kpi: KpiId;
  label: string;
  own: number | null;
  /** Why the shop has no value (from the node's KPI computation). */
  ownMissing: string | null;
  release: KpiRelease;
  /** Quarter of the cooperative the shop's value falls in (1 lowest), when both are known. */
  quarter: 1 | 2 | 3 | 4 | null;
}

/** The shop's values set against one published run, KPI by KPI of the run (catalogue order). */
export function compareRun(own: OwnBenchmarks, run: PublishedBenchmark): KpiComparison[] {
  const released = new Map(run.kpis.map((r) => [r.kpi, r]));
  return KPI_IDS.filter((id) => released.has(id)).map((id) => {
    const release = released.get(id)!;
    const value = own.values[id] ?? null;
    return {
      kpi: id,
      label: kpi(id).label,
      own: value,
      ownMissing: own.missing[id] ?? null,
      release,
      quarter: value !== null && release.quartiles ? quarterOf(value, release.quartiles) : null,
    };
  });
}
