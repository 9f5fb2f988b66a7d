import { z } from 'zod';
import { DEFAULT_DATABASE_PATH } from './db';

/**
 * Coordinator configuration from flags and `COOPFL_*` environment variables (flags win), parsed
 * with zod at start-up: a bad value stops start-up with a message naming it.
 */
export const CoordinatorConfigSchema = z.object({
  /** `postgres://…` for PostgreSQL, a directory for embedded PGlite, `memory://` for tests. */
  db: z.string().min(1).default(DEFAULT_DATABASE_PATH),
  host: z.string().min(1).default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65535).default(8787),
  /** The coordinator's Ed25519 seed (hex); created on first start. `memory` keeps it in memory. */
  keyFile: z.string().min(1).default('./.coopfl/coordinator.key'),
  /** Largest request body accepted (masked vectors are 4·d bytes). */
  maxBodyBytes: z.coerce
    .number()
    .int()
    .min(1024)
    .default(256 * 1024 * 1024),
  /** How old (or how far in the future) a signed request's timestamp may be. */
  requestMaxAgeMs: z.coerce
    .number()
    .int()
    .min(1000)
    .default(5 * 60_000),
  /** Join and login attempts allowed per client address per minute. */
  authRatePerMinute: z.coerce.number().int().min(1).default(30),
  /** Approve joining members without an admin (for simulations and demos). */
  autoApprove: z.coerce.boolean().default(false),
  /** Start a round for every model every N minutes (0: only manually). */
  scheduleMinutes: z.coerce.number().min(0).default(0),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type CoordinatorConfig = z.infer<typeof CoordinatorConfigSchema>;
export type CoordinatorConfigInput = z.input<typeof CoordinatorConfigSchema>;

const ENV: Record<keyof CoordinatorConfig, string> = {
  db: 'COOPFL_DB',
  host: 'COOPFL_HOST',
  port: 'COOPFL_PORT',
  keyFile: 'COOPFL_KEY_FILE',
  maxBodyBytes: 'COOPFL_MAX_BODY_BYTES',
  requestMaxAgeMs: 'COOPFL_REQUEST_MAX_AGE_MS',
  autoApprove: 'COOPFL_AUTO_APPROVE',
  authRatePerMinute: 'COOPFL_AUTH_RATE_PER_MINUTE',
  scheduleMinutes: 'COOPFL_SCHEDULE_MINUTES',
  logLevel: 'COOPFL_LOG_LEVEL',
};

/** Merges environment and flags; throws an Error naming the first bad setting. */
export function loadConfig(
  flags: Partial<Record<keyof CoordinatorConfig, unknown>>,
  env: NodeJS.ProcessEnv = process.env,
): CoordinatorConfig {
  const raw: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(ENV)) {
    const fromFlag = flags[key as keyof CoordinatorConfig];
    const fromEnv = env[name];
    if (fromFlag !== undefined) raw[key] = fromFlag;
    else if (fromEnv !== undefined && fromEnv !== '') raw[key] = fromEnv;
  }
  if (raw.db === undefined && env.DATABASE_URL) raw.db = env.DATABASE_URL;
  const parsed = CoordinatorConfigSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const key = String(issue.path[0]) as keyof CoordinatorConfig;
  throw new Error(
    `invalid setting ${key} (--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} or ${ENV[key]}): ${issue.message}`,
  );
}
