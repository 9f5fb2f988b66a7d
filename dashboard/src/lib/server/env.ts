import { z } from 'zod';

const EnvSchema = z.object({
  COOPFL_COORDINATOR_URL: z
    .url({ protocol: /^https?$/, error: 'must be the http(s) URL of the coordinator' })
    .transform((u) => u.replace(/\/+$/, '')),
  /** Mark the session cookie `Secure` (set it when the dashboard is served over HTTPS). */
  COOPFL_DASHBOARD_SECURE_COOKIE: z
    .enum(['0', '1'])
    .default('0')
    .transform((v) => v === '1'),
});
export type DashboardEnv = z.infer<typeof EnvSchema>;

/**
 * The dashboard's settings from the environment, parsed with zod: a missing or bad value fails
 * with a message naming the variable (read per request, so a test can point it elsewhere).
 *
 * @example
 * COOPFL_COORDINATOR_URL=http://127.0.0.1:8787 pnpm --filter @coopfl/dashboard dev
 */
export function dashboardEnv(source: NodeJS.ProcessEnv = process.env): DashboardEnv {
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`dashboard environment: ${issue.path.join('.')} ${issue.message}`);
  }
  return parsed.data;
}
