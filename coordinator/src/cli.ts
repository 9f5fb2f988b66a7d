#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { desc, eq } from 'drizzle-orm';
import { cryptoReady, systemRandom } from '@coopfl/protocol';
import type { RoundId } from '@coopfl/protocol';
import type { CoordinatorConfig } from './config';
import { loadConfig } from './config';
import type { CoordinatorContext } from './context';
import { openDatabase, roundParticipants, rounds } from './db';
import { isCoordinatorError } from './errors';
import { loadOrCreateKey } from './keys';
import { createLogger, createMetrics } from './observability';
import { startRound } from './rounds/start';
import { startCoordinator } from './server';
import { registerBenchmarkCommands } from './cli-benchmark';
import { createAdmin } from './services/admins';
import { createInvite, listMembers, setMemberStatus } from './services/members';
import { createModel, listModels } from './services/models';

/**
 * `coopfl-coordinator`: runs the coordinator (`serve`) and administers its database directly
 * (`admin`, `invite`, `member`, `model`, `round`, `benchmark`). Every command prints JSON with `--json`.
 * A bad flag or setting prints a message naming it and exits with code 2.
 */
type Flags = Partial<Record<keyof CoordinatorConfig, unknown>> & { json?: boolean };

const program = new Command('coopfl-coordinator')
  .description('CoopFL coordinator: membership, rounds, secure aggregation with DP')
  .option('--db <url|path>', 'postgres://… or a PGlite directory (default ./.coopfl/coordinator)')
  .option('--key-file <path>', "the coordinator's key file (default ./.coopfl/coordinator.key)")
  .option('--json', 'print JSON')
  .exitOverride()
  .showHelpAfterError();

function out(flags: Flags, human: string, data: unknown): void {
  process.stdout.write(flags.json ? `${JSON.stringify(data)}\n` : `${human}\n`);
}

/** Opens the database for an admin command and runs `fn` with a service context. */
async function withContext<T>(
  cmd: Command,
  fn: (ctx: CoordinatorContext, flags: Flags) => Promise<T>,
): Promise<T> {
  const flags = cmd.optsWithGlobals<Flags>();
  const config = loadConfig({ db: flags.db, keyFile: flags.keyFile, logLevel: 'warn' });
  await cryptoReady();
  const opened = await openDatabase(config.db);
  try {
    const ctx: CoordinatorContext = {
      db: opened.db,
      config,
      key: await loadOrCreateKey(config.keyFile),
      log: createLogger('warn'),
      metrics: createMetrics(),
      random: systemRandom(),
      now: () => new Date(),
    };
    return await fn(ctx, flags);
  } finally {
    await opened.close();
  }
}

program
  .command('serve')
  .description('serve the coordinator over HTTP (tRPC + binary routes)')
  .option('--host <host>', 'address to listen on (default 127.0.0.1)')
  .option('--port <port>', 'port (default 8787; 0 picks a free one)')
  .option('--auto-approve', 'approve joining members without an admin')
  .option('--schedule-minutes <n>', 'start a round of every model every n minutes')
  .option('--log-level <level>', 'pino level')
  .action(async (_o, cmd: Command) => {
    const flags = cmd.optsWithGlobals<Flags>();
    const running = await startCoordinator(loadConfig(flags));
    out(flags, `coordinator listening on ${running.url}`, { url: running.url });
    const stop = () => void running.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program
  .command('migrate')
  .description('apply database migrations and exit')
  .action(async (_o, cmd: Command) => {
    await withContext(cmd, (_ctx, flags) => {
      out(flags, 'database is up to date', { ok: true });
      return Promise.resolve();
    });
  });

const admin = program.command('admin').description('admin accounts');
admin
  .command('create')
  .requiredOption('--username <name>')
  .option('--password <password>', 'at least 10 characters (or set COOPFL_ADMIN_PASSWORD)')
  .option('--role <role>', 'admin or observer', 'admin')
  .action(async (o: { username: string; password?: string; role: string }, cmd: Command) => {
    await withContext(cmd, async (ctx, flags) => {
      const password = o.password ?? process.env.COOPFL_ADMIN_PASSWORD;
      if (!password) throw new Error('--password (or COOPFL_ADMIN_PASSWORD) is required');
      if (o.role !== 'admin' && o.role !== 'observer')
        throw new Error('--role must be admin or observer');
      const a = await createAdmin(ctx, { username: o.username, password, role: o.role });
      out(flags, `created ${o.role} ${a.username}`, a);
    });
  });

program
  .command('invite')
  .description('invites')
  .command('create')
  .option('--expires <hours>', 'hours until the invite expires', '72')
  .option('--note <text>')
  .action(async (o: { expires: string; note?: string }, cmd: Command) => {
    await withContext(cmd, async (ctx, flags) => {
      const r = await createInvite(ctx, {
        createdBy: 'cli',
        expiresInHours: Number(o.expires),
        ...(o.note ? { note: o.note } : {}),
      });
      out(flags, r.invite, { invite: r.invite, expiresAt: r.expiresAt.toISOString() });
    });
  });

const member = program.command('member').description('members');
member.command('list').action(async (_o, cmd: Command) => {
  await withContext(cmd, async (ctx, flags) => {
    const list = await listMembers(ctx);
    out(
      flags,
      list.map((m) => `${m.id}\t${m.status}\t${m.name}`).join('\n') || '(no members)',
      list,
    );
  });
});
for (const action of ['approve', 'revoke'] as const) {
  member
    .command(action)
    .argument('<memberId>')
    .action(async (memberId: string, _o, cmd: Command) => {
      await withContext(cmd, async (ctx, flags) => {
        const m = await setMemberStatus(
          ctx,
          memberId,
          action === 'approve' ? 'approved' : 'revoked',
          'cli',
        );
        out(flags, `${m.id} is ${m.status}`, { id: m.id, status: m.status });
      });
    });
}

const model = program.command('model').description('shared models');
model
  .command('create')
  .requiredOption('--id <id>')
  .requiredOption('--kind <kind>', 'demand, recommendation, fraud, or another kind')
  .option('--dim <n>', 'length of the weight vector (implied for demand, recommendation, fraud)')
  .option('--config <json>', 'model configuration (JSON), see ModelConfigSchema', '{}')
  .action(async (o: { id: string; kind: string; dim?: string; config: string }, cmd: Command) => {
    await withContext(cmd, async (ctx, flags) => {
      const m = await createModel(
        ctx,
        {
          id: o.id,
          kind: o.kind,
          ...(o.dim === undefined ? {} : { dim: Number(o.dim) }),
          config: JSON.parse(o.config) as object,
        },
        'cli',
      );
      out(flags, `created model ${m.id} (dim ${m.dim})`, {
        id: m.id,
        kind: m.kind,
        dim: m.dim,
        config: m.config,
      });
    });
  });
model.command('list').action(async (_o, cmd: Command) => {
  await withContext(cmd, async (ctx, flags) => {
    const list = await listModels(ctx);
    out(
      flags,
      list.map((m) => `${m.id}\t${m.kind}\tdim ${m.dim}\tv${m.latestVersion}`).join('\n') ||
        '(no models)',
      list.map((m) => ({ ...m, createdAt: m.createdAt.toISOString() })),
    );
  });
});

const round = program.command('round').description('rounds');
round
  .command('start')
  .requiredOption('--model <id>')
  .option('--kind <kind>', 'train or eval', 'train')
  .action(async (o: { model: string; kind: string }, cmd: Command) => {
    await withContext(cmd, async (ctx, flags) => {
      if (o.kind !== 'train' && o.kind !== 'eval') throw new Error('--kind must be train or eval');
      const rc = await startRound(ctx, { modelId: o.model, kind: o.kind, actor: 'cli' });
      out(flags, `started ${rc.roundId} with ${rc.secagg.clients.length} members`, {
        roundId: rc.roundId,
        cohort: rc.secagg.clients.length,
      });
    });
  });
round.command('list').action(async (_o, cmd: Command) => {
  await withContext(cmd, async (ctx, flags) => {
    const rows = await ctx.db.select().from(rounds).orderBy(desc(rounds.createdAt)).limit(100);
    out(
      flags,
      rows.map((r) => `${r.id}\t${r.status}\t${r.error ?? ''}`).join('\n') || '(no rounds)',
      rows,
    );
  });
});
round
  .command('show')
  .argument('<roundId>')
  .action(async (roundId: string, _o, cmd: Command) => {
    await withContext(cmd, async (ctx, flags) => {
      const [r] = await ctx.db
        .select()
        .from(rounds)
        .where(eq(rounds.id, roundId as RoundId));
      if (!r) throw new Error(`no round "${roundId}"`);
      const participants = await ctx.db
        .select()
        .from(roundParticipants)
        .where(eq(roundParticipants.roundId, r.id));
      out(
        flags,
        `${r.id}: ${r.status}${r.error ? ` (${r.error})` : ''}, ${participants.length} members`,
        { ...r, participants },
      );
    });
  });

registerBenchmarkCommands(program, withContext, out);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  const message = isCoordinatorError(err) || err instanceof Error ? err.message : String(err);
  process.stderr.write(`coopfl-coordinator: ${message}\n`);
  process.exit(isCoordinatorError(err) && err.status < 500 ? 1 : 2);
}
