import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { CoopNodeError } from '../errors';
import { DEFAULT_STORE_VIEWS } from '../store/source';
import type { StoreViews } from '../store/source';

/**
 * The coordinator key fingerprint an invite carries (first 16 bytes of SHA-256, hex), the same
 * computation as the coordinator's (node:crypto here, so a config parses before libsodium loads).
 */
export function keyFingerprint(publicKey: Uint8Array): string {
  return createHash('sha256').update(publicKey).digest('hex').slice(0, 32);
}

/** Where a node keeps its config (and, by default, its embedded database). */
export const DEFAULT_NODE_DIR = './.coopfl/node';
/** Environment variable naming the node's data directory (the `--dir` flag wins). */
export const NODE_DIR_ENV = 'COOPFL_NODE_DIR';
/** The config file inside the data directory. */
export const CONFIG_FILE = 'node.json';

const relation = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/,
    'must be "name" or "schema.name"',
  );

/**
 * A node's settings, stored as JSON in its data directory by `coopfl-node init`. Secrets are not
 * here: the identity key lives in the node's database (`coopfl.identity_keys`).
 *
 * - `coordinatorKey` is pinned at joining after checking it against the invite's fingerprint;
 *   every task and weight vector the node accepts must be signed by it.
 * - `storeDb`: `postgres://…` (the shop's PostgreSQL, with the node's `coopfl` schema beside its
 *   tables), or a PGlite directory (relative paths are relative to the data directory).
 * - `views`: the shop's own relations mapped onto the canonical ones (DESIGN §3).
 */
export const NodeConfigSchema = z
  .object({
    version: z.literal(1).default(1),
    coordinatorUrl: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
      .transform((u) => u.replace(/\/+$/, '')),
    coordinatorKey: z.string().regex(/^[0-9a-f]{64}$/, 'must be 32 bytes of lowercase hex'),
    coordinatorFingerprint: z.string().regex(/^[0-9a-f]{32}$/, 'must be 16 bytes of lowercase hex'),
    memberId: z.string().min(1).max(200),
    name: z.string().min(1).max(100),
    storeDb: z.string().min(1),
    views: z
      .object({
        stores: relation.nullable(),
        products: relation,
        customers: relation,
        orders: relation,
        orderItems: relation,
        fraudLabels: relation.nullable(),
        dailySales: relation.nullable(),
      })
      .partial()
      .default({}),
    /** The cooperative's dashboard (default: `<coordinatorUrl>/dashboard`). */
    dashboardUrl: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
      .transform((u) => u.replace(/\/+$/, ''))
      .optional(),
    /** The shop's `store_id` when the store database holds several shops (demo, simulator). */
    storeId: z.string().min(1).max(200).optional(),
    /** How often the client loop asks the coordinator for tasks. */
    pollMs: z.number().int().min(100).max(3_600_000).default(5_000),
    /** Longest pause between retries while the coordinator is unreachable. */
    maxBackoffMs: z.number().int().min(100).max(3_600_000).default(60_000),
    /**
     * Personalization: epochs of fine-tuning each new global version on the shop's own data;
     * the copy is served only where the shop's validation split prefers it (0: off).
     */
    personalizeEpochs: z.number().int().min(0).max(50).default(2),
    /** The node's local prediction server (`coopfl-node serve`). */
    servePort: z.number().int().min(0).max(65535).default(8788),
  })
  .strict()
  .refine(
    (c) => keyFingerprint(Buffer.from(c.coordinatorKey, 'hex')) === c.coordinatorFingerprint,
    {
      path: ['coordinatorFingerprint'],
      message: 'does not match coordinatorKey',
    },
  );
export type NodeConfig = z.infer<typeof NodeConfigSchema>;
export type NodeConfigInput = z.input<typeof NodeConfigSchema>;

/**
 * The node's data directory: the flag, else `COOPFL_NODE_DIR`, else `./.coopfl/node`, made
 * absolute so a daemon started elsewhere finds the same files.
 */
export function resolveNodeDir(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  const dir = flag ?? (env[NODE_DIR_ENV] || undefined) ?? DEFAULT_NODE_DIR;
  return resolve(dir);
}

/** The database target of a config: PGlite paths resolve against the data directory. */
export function storeTarget(dir: string, storeDb: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(storeDb) || isAbsolute(storeDb)) return storeDb;
  return join(dir, storeDb);
}

/** Parses a config, throwing `InvalidConfig` naming the first bad field. */
export function parseNodeConfig(raw: unknown, where = CONFIG_FILE): NodeConfig {
  const parsed = NodeConfigSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.map(String).join('.') || '(root)';
  throw new CoopNodeError('InvalidConfig', `${where}: ${field}: ${issue.message}`);
}

/**
 * Reads `<dir>/node.json`. A missing file is `NotInitialized` (run `coopfl-node init`); a bad
 * value stops start-up with `InvalidConfig` naming it.
 */
export async function loadNodeConfig(dir: string): Promise<NodeConfig> {
  const file = join(dir, CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CoopNodeError(
        'NotInitialized',
        `no node in ${dir} (run "coopfl-node init --coordinator URL --invite TOKEN" first)`,
      );
    }
    throw new CoopNodeError('InvalidConfig', `cannot read ${file}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CoopNodeError('InvalidConfig', `${file} is not valid JSON`, { cause: err });
  }
  return parseNodeConfig(raw, file);
}

/** Writes the config atomically (temp file + rename), so a crash never leaves half a file. */
export async function saveNodeConfig(dir: string, config: NodeConfig): Promise<void> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, CONFIG_FILE);
  const tmp = `${file}.tmp`;
  await writeFile(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
}

/** The store views of a config, defaults filled in. */
export function viewsOf(config: NodeConfig): Partial<StoreViews> {
  return { ...DEFAULT_STORE_VIEWS, ...config.views };
}
