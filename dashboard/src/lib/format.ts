/** Display helpers shared by pages (no I/O). */
export const fmtNumber = (v: number | null | undefined, digits = 3): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits);

export const fmtBytes = (n: number): string =>
  n < 1024
    ? `${n} B`
    : n < 1024 ** 2
      ? `${(n / 1024).toFixed(1)} KB`
      : `${(n / 1024 ** 2).toFixed(2)} MB`;

export const fmtDuration = (ms: number): string =>
  ms < 1000
    ? `${ms} ms`
    : ms < 120_000
      ? `${(ms / 1000).toFixed(1)} s`
      : `${(ms / 60_000).toFixed(1)} min`;

export const fmtTime = (iso: string | null): string =>
  iso ? new Date(iso).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : '—';

/** What a metric name means, for labels (lower or higher is better). */
export const METRIC_LABELS: Record<string, string> = {
  wape: 'WAPE of weekly units (lower is better)',
  mase: 'MASE of weekly units (lower is better)',
  wape_daily: 'WAPE of daily units (lower is better)',
  loss: 'loss (lower is better)',
  hit_rate_10: 'HitRate@10 (higher is better)',
  ndcg_10: 'NDCG@10 (higher is better)',
  pr_auc: 'PR-AUC (higher is better)',
  recall_at_1fpr: 'recall at 1% FPR (higher is better)',
};
export const metricLabel = (m: string): string => METRIC_LABELS[m] ?? m;
