/**
 * The node's side of the shared benchmarks (DESIGN §8): business KPIs of one period computed from
 * the shop's store database, later summed across shops by secure aggregation with DP.
 */
export { computeKpis, CANCELLED_STATUSES, MODEL_KPI_SOURCES } from './kpis';
export type { ComputeKpisOptions, ShopKpis } from './kpis';
export { nodeBenchmarks, compareRun, MAX_PERIODS } from './compare';
export type { NodeBenchmarks, OwnBenchmarks, KpiComparison, NodeBenchmarkSources } from './compare';
