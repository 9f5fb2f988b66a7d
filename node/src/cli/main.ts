#!/usr/bin/env node
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { KPI_IDS } from '@coopfl/protocol/benchmarks';
import { CoopNodeError, isCoopNodeError } from '../errors';
import type { NodeHandle } from '../runtime/member';
import { initNode, openNode } from '../runtime/member';
import { resolveNodeDir } from '../runtime/config';
import { STORE_RELATIONS } from '../store/source';
import type { GlobalFlags } from './output';
import { out, progressLine } from './output';
import { importCommand } from './import';
import { predictCommand, serveCommand } from './predict';
import { benchmarkCommand } from './benchmark';

/**
 * `coopfl-node`: the member daemon's command line. Every command prints JSON with `--json`; a
 * bad flag prints a message naming it and exits with code 2; other failures exit with 1.
 */
const program = new Command('coopfl-node')
  .description('CoopFL member node: join a cooperative, train the shared models, serve them')
  .option('--dir <path>', 'data directory (default $COOPFL_NODE_DIR or ./.coopfl/node)')
  .option('--json', 'print JSON')
  .exitOverride()
  .showHelpAfterError();

const flagsOf = (cmd: Command) => cmd.optsWithGlobals<GlobalFlags & Record<string, unknown>>();

/** Opens the node for a command and closes it afterwards. */
export async function withNode<T>(
  cmd: Command,
  fn: (node: NodeHandle, flags: GlobalFlags) => Promise<T>,
): Promise<T> {
  const flags = flagsOf(cmd);
  const node = await openNode(resolveNodeDir(flags.dir));
  try {
    return await fn(node, flags);
  } finally {
    await node.close();
  }
}

const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError(`${name} must be a positive integer`);
  return n;
};
const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
const epsilonCap = (v: string, prev: Record<string, number> = {}) => {
  const m = /^([^=\s]+)=([0-9.eE+-]+)$/.exec(v);
  const eps = m ? Number(m[2]) : NaN;
  if (!m || !(eps > 0) || !Number.isFinite(eps))
    throw new InvalidArgumentError('must be model=ε with ε a positive number, e.g. fraud=4');
  return { ...prev, [m[1]!]: eps };
};

const view = (v: string, prev: Record<string, string | null> = {}) => {
  const m = /^([A-Za-z]+)=(\S+)$/.exec(v);
  if (!m || !(m[1]! in STORE_RELATIONS)) {
    throw new InvalidArgumentError(
      `must be relation=name with relation one of ${Object.keys(STORE_RELATIONS).join(', ')}`,
    );
  }
  return { ...prev, [m[1]!]: m[2] === 'none' ? null : m[2]! };
};

program
  .command('init')
  .description('join a cooperative with an invite and create the node')
  .requiredOption('--coordinator <url>', "the coordinator's URL")
  .requiredOption('--invite <token>', 'the invite from the cooperative admin')
  .option('--store-db <url|path>', 'postgres://… or a PGlite directory (default <dir>/db)')
  .option('--name <name>', "the shop's name as the admins see it", 'Shop')
  .option(
    '--view <relation=name>',
    'read a canonical relation from the shop’s own table or view, e.g. orders=public.my_orders (none: absent optional relation; repeatable)',
    view,
  )
  .action(
    async (
      o: {
        coordinator: string;
        invite: string;
        storeDb?: string;
        name: string;
        view?: Record<string, string | null>;
      },
      cmd: Command,
    ) => {
      const flags = flagsOf(cmd);
      const dir = resolveNodeDir(flags.dir);
      const r = await initNode({
        dir,
        coordinatorUrl: o.coordinator,
        invite: o.invite,
        name: o.name,
        ...(o.storeDb ? { storeDb: o.storeDb } : {}),
        ...(o.view ? { views: o.view } : {}),
      });
      out(
        flags,
        `joined as ${r.memberId} (${r.status}); coordinator key ${r.coordinatorFingerprint}; config in ${r.configFile}`,
        { ...r, dir },
      );
    },
  );

program
  .command('run')
  .description('take part in rounds (polls the coordinator; Ctrl-C stops)')
  .option('--once', 'poll once, take part in the current tasks, then exit')
  .action(async (o: { once?: boolean }, cmd: Command) => {
    await withNode(cmd, async (node, flags) => {
      const ctl = new AbortController();
      const stop = () => ctl.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const progress = progressLine();
      try {
        const summary = await node.run({
          signal: ctl.signal,
          once: o.once === true,
          onEvent: (e) => progress.event(e),
        });
        progress.done();
        out(
          flags,
          `${summary.polls} polls, ${summary.joined} rounds joined, ${summary.refused} declined, ${summary.failed} failed`,
          summary,
        );
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
  });

importCommand(program);

const consent = program.command('consent').description("the shop's consent (enforced locally)");
consent
  .command('show')
  .description('show the local consent and whether the coordinator has it')
  .action(async (_o, cmd: Command) => {
    await withNode(cmd, async (node, flags) => {
      const c = await node.consent.get();
      out(flags, describeConsent(c.consent, c.synced), c);
    });
  });
consent
  .command('set')
  .description('set consent; fields not given keep their value')
  .option('--models <ids>', 'models (ids or kinds) this shop trains, comma-separated', list)
  .option('--all-models', 'train every model (removes the --models list)')
  .option(
    '--kpis <ids>',
    `benchmark KPIs this shop contributes, comma-separated (${KPI_IDS.join(', ')})`,
    list,
  )
  .option('--epsilon-cap <model=ε>', 'own ε cap for a model (repeatable)', epsilonCap)
  .option('--clear-caps', 'remove every own ε cap first')
  .option(
    '--epsilon-period-days <n>',
    'own caps renew every n days (e.g. 365: ε per year); "lifetime" for lifetime totals',
  )
  .action(
    async (
      o: {
        models?: string[];
        allModels?: boolean;
        kpis?: string[];
        epsilonCap?: Record<string, number>;
        clearCaps?: boolean;
        epsilonPeriodDays?: string;
      },
      cmd: Command,
    ) => {
      if (o.models && o.allModels) {
        throw new CoopNodeError('InvalidArgument', '--models and --all-models exclude each other');
      }
      await withNode(cmd, async (node, flags) => {
        const cur = (await node.consent.get()).consent;
        const next = {
          ...(o.allModels
            ? {}
            : o.models
              ? { models: o.models }
              : cur.models
                ? { models: cur.models }
                : {}),
          kpis: o.kpis ?? cur.kpis,
          epsilonCaps: { ...(o.clearCaps ? {} : cur.epsilonCaps), ...o.epsilonCap },
          ...periodOf(o.epsilonPeriodDays, cur.epsilonPeriodDays),
        };
        const r = await node.consent.set(next);
        out(
          flags,
          `${describeConsent(r.consent, r.synced)}${r.syncError ? `\nnot synced: ${r.syncError}` : ''}`,
          r,
        );
      });
    },
  );

/** `--epsilon-period-days`: a number of days, "lifetime" (none), or absent (keep the current). */
function periodOf(flag: string | undefined, current: number | undefined) {
  if (flag === undefined) return current === undefined ? {} : { epsilonPeriodDays: current };
  if (flag === 'lifetime') return {};
  const days = Number(flag);
  if (!Number.isInteger(days) || days < 1) {
    throw new CoopNodeError(
      'InvalidArgument',
      '--epsilon-period-days must be a whole number of days ≥ 1, or "lifetime"',
    );
  }
  return { epsilonPeriodDays: days };
}

function describeConsent(
  c: {
    models?: string[] | undefined;
    kpis: string[];
    epsilonCaps: Record<string, number>;
    epsilonPeriodDays?: number | undefined;
  },
  synced: boolean,
): string {
  const caps = Object.entries(c.epsilonCaps).map(([m, e]) => `${m}=${e}`);
  const period = c.epsilonPeriodDays ? ` per ${c.epsilonPeriodDays} days` : ' (lifetime)';
  return [
    `models: ${c.models ? c.models.join(', ') || '(none)' : 'all'}`,
    `kpis: ${c.kpis.join(', ') || '(none)'}`,
    `own ε caps: ${caps.length > 0 ? caps.join(', ') + period : '(none: the cooperative budget applies)'}`,
    `coordinator mirror: ${synced ? 'up to date' : 'not yet synced (sent on next run)'}`,
  ].join('\n');
}

program
  .command('status')
  .description('membership, models, last round and privacy spent')
  .action(async (_o, cmd: Command) => {
    await withNode(cmd, async (node, flags) => {
      const s = await node.status();
      const lines = [
        `member ${s.memberId} (${s.name}) at ${s.coordinatorUrl}: ${s.membership}${s.coordinatorError ? ` (${s.coordinatorError})` : ''}`,
        ...s.models.map(
          (m) =>
            `  ${m.modelId} [${m.kind}] local v${m.localVersion ?? '-'} / cooperative v${m.latestVersion ?? '?'}${m.consented ? '' : ' (not consented)'}`,
        ),
        s.lastRound
          ? `last round: ${s.lastRound.roundId} ${s.lastRound.outcome} at ${s.lastRound.at}`
          : 'last round: none',
        ...s.privacy.map(
          (p) => `  ε spent on ${p.modelId}: ${p.epsilon.toFixed(3)} (δ ${p.delta}, member level)`,
        ),
      ];
      out(flags, lines.join('\n'), s);
    });
  });

serveCommand(program, withNode);
predictCommand(program, withNode, positiveInt);
benchmarkCommand(program, withNode);

program
  .command('dashboard-link')
  .description(
    "print a one-time login link (valid 10 minutes) to this member's page on the dashboard",
  )
  .option('--base <url>', 'the dashboard URL (default: the configured dashboardUrl)')
  .action(async (o: { base?: string }, cmd: Command) => {
    await withNode(cmd, async (node, flags) => {
      const link = await node.dashboardLink(o.base);
      out(flags, `${link.url}\n(expires ${link.expiresAt})`, {
        ...link,
        page: node.dashboardUrl(),
      });
    });
  });

const USAGE_CODES = new Set(['InvalidArgument', 'AlreadyInitialized', 'NotInitialized']);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  const json = process.argv.includes('--json');
  const code = isCoopNodeError(err) ? err.code : 'Internal';
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`coopfl-node: ${message}\n`);
  if (json) process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
  process.exit(isCoopNodeError(err) && USAGE_CODES.has(err.code) ? 2 : 1);
}
