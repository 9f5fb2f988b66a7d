import { z } from 'zod';
import { PeriodSchema } from '@coopfl/protocol/benchmarks';

/** Longest id the API accepts in a query (catalog keys, customer ids). */
const MAX_ID_LENGTH = 256;

const id = z
  .string('is required')
  .trim()
  .min(1, 'must not be blank')
  .max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`);

const intIn = (min: number, max: number, fallback: number) =>
  z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined || s === '') return fallback;
      const n = /^\d+$/.test(s.trim()) ? Number(s) : NaN;
      if (!Number.isSafeInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be an integer from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    });

/** `GET /forecast` query: `catalog_key` (required) and `days` (1–28, default 14). */
export const ForecastQuery = z.object({
  catalog_key: id,
  days: intIn(1, 28, 14),
});
export type ForecastQuery = z.infer<typeof ForecastQuery>;

/** `GET /recommend` query: `customer_id` (required) and `k` (1–100, default 10). */
export const RecommendQuery = z.object({
  customer_id: id,
  k: intIn(1, 100, 10),
});
export type RecommendQuery = z.infer<typeof RecommendQuery>;

/** `GET /benchmarks` query: `period` (`2026-10`, `2026-Q4`, `2026`; default: every published one). */
export const BenchmarksQuery = z.object({
  period: z
    .string()
    .optional()
    .refine((p) => p === undefined || PeriodSchema.safeParse(p).success, {
      message: 'must be a month (2026-10), a quarter (2026-Q4) or a year (2026)',
    }),
});
export type BenchmarksQuery = z.infer<typeof BenchmarksQuery>;

/**
 * The first issue of a failed parse as `<where>.<field>: <message>`, e.g. `query.days: must be an
 * integer from 1 to 28`. zod's messages name types and bounds, never the value received.
 */
export function describeIssue(where: 'query' | 'body', error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return `${where}: invalid`;
  const path = issue.path.map(String).join('.');
  return `${path ? `${where}.${path}` : where}: ${issue.message}`;
}
