import type { Command } from 'commander';
import { eq } from 'drizzle-orm';
import type { KpiRelease } from '@coopfl/protocol/benchmarks';
import {
  KPI_IDS,
  SIZE_BANDS,
  formatKpi,
  kpi,
  unknownKpisMessage,
} from '@coopfl/protocol/benchmarks';
import type { CoordinatorContext } from './context';
import { rounds } from './db';
import type { BenchmarkRunInput, PublishedBenchmark } from './services/benchmarks';
import { publishedBenchmarks, startBenchmark } from './services/benchmarks';

type WithContext = <T>(
  cmd: Command,
  fn: (ctx: CoordinatorContext, flags: { json?: boolean }) => Promise<T>,
) => Promise<T>;
type Out = (flags: { json?: boolean }, human: string, data: unknown) => void;

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** One line per KPI: contributors, mean with its interval, quartiles — or why it was withheld. */
export function formatReleases(releases: readonly KpiRelease[]): string {
  return releases
    .map((r) => {
      const label = kpi(r.kpi).label.padEnd(34);
      if (r.status !== 'released' || r.mean === null) return `${label} withheld: ${r.reason}`;
      const f = (v: number) => formatKpi(r.kpi, v);
      const ci = r.meanInterval ? ` [${f(r.meanInterval[0])} – ${f(r.meanInterval[1])}]` : '';
      const q = r.quartiles ? `  quartiles ${r.quartiles.map(f).join(' / ')}` : '';
      return `${label} n≈${r.contributors}  mean ${f(r.mean)}${ci}${q}`;
    })
    .join('\n');
}

export function formatPublished(b: PublishedBenchmark): string {
  const dp =
    b.dp.mode === 'off'
      ? 'no DP'
      : `${b.dp.mode} DP, ε = ${b.dp.epsilon?.toFixed(2)} per member, noise sd ${b.dp.noiseSd.toFixed(3)}`;
  return `${b.period} · ${b.peerGroup} · ${dp} (${b.roundId})\n${formatReleases(b.kpis)}`;
}

/**
 * `coopfl-coordinator benchmark run --period 2026-10`: starts a benchmark run in the database (the
 * serving coordinator hosts it as its members poll) and, unless `--no-wait`, waits for the release
 * with a live stage line on stderr, then prints the published figures.
 */
export function registerBenchmarkCommands(program: Command, withContext: WithContext, out: Out) {
  const benchmark = program.command('benchmark').description('shared KPI benchmarks');
  benchmark
    .command('run')
    .requiredOption('--period <period>', 'a month (2026-10), a quarter (2026-Q4) or a year (2026)')
    .option('--kpis <ids>', `KPIs, comma-separated (default all: ${KPI_IDS.join(', ')})`, list)
    .option('--size-band <band>', `peer group: shops of this size (${SIZE_BANDS.join(', ')})`)
    .option('--category <name>', 'peer group: shops whose main category is this')
    .option('--min-contributors <n>', 'fewest contributors before a figure is released')
    .option('--dp <mode>', 'off, central or distributed (default: the settings)')
    .option('--epsilon <eps>', 'ε this run spends per member (default: the settings)')
    .option('--no-wait', 'start the run and return')
    .option('--timeout <seconds>', 'how long to wait for the release', '900')
    .action(
      async (
        o: {
          period: string;
          kpis?: string[];
          sizeBand?: string;
          category?: string;
          minContributors?: string;
          dp?: string;
          epsilon?: string;
          wait: boolean;
          timeout: string;
        },
        cmd: Command,
      ) => {
        await withContext(cmd, async (ctx, flags) => {
          const num = (name: string, v: string | undefined) => {
            if (v === undefined) return undefined;
            const n = Number(v);
            if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got "${v}"`);
            return n;
          };
          const unknownKpis = unknownKpisMessage(o.kpis ?? []);
          if (unknownKpis) throw new Error(`--kpis: ${unknownKpis}`);
          const input = {
            period: o.period,
            ...(o.kpis ? { kpis: o.kpis } : {}),
            peerGroup: {
              ...(o.sizeBand ? { sizeBand: o.sizeBand } : {}),
              ...(o.category ? { category: o.category } : {}),
            },
            ...(o.minContributors !== undefined
              ? { minContributors: num('min-contributors', o.minContributors) }
              : {}),
            ...(o.dp ? { dp: o.dp } : {}),
            ...(o.epsilon !== undefined ? { epsilon: num('epsilon', o.epsilon) } : {}),
          } as BenchmarkRunInput;
          const rc = await startBenchmark(ctx, input, 'cli');
          if (!o.wait) {
            out(flags, `started ${rc.roundId} with ${rc.secagg.clients.length} members`, {
              roundId: rc.roundId,
              cohort: rc.secagg.clients.length,
            });
            return;
          }
          const until = Date.now() + 1000 * (num('timeout', o.timeout) ?? 900);
          let last = '';
          for (;;) {
            const [row] = await ctx.db
              .select({ status: rounds.status, error: rounds.error })
              .from(rounds)
              .where(eq(rounds.id, rc.roundId));
            const status = row?.status ?? 'missing';
            if (status !== last) {
              process.stderr.write(`${rc.roundId}: ${status}\n`);
              last = status;
            }
            if (status === 'failed')
              throw new Error(`benchmark ${rc.roundId} failed: ${row?.error}`);
            if (status === 'done') break;
            if (Date.now() > until)
              throw new Error(`benchmark ${rc.roundId} still ${status} after ${o.timeout} s`);
            await new Promise((r) => setTimeout(r, 500));
          }
          const [published] = (await publishedBenchmarks(ctx, { period: o.period })).filter(
            (b) => b.roundId === rc.roundId,
          );
          out(flags, formatPublished(published!), published);
        });
      },
    );
  benchmark
    .command('list')
    .option('--period <period>')
    .action(async (o: { period?: string }, cmd: Command) => {
      await withContext(cmd, async (ctx, flags) => {
        const all = await publishedBenchmarks(ctx, o.period ? { period: o.period } : {});
        out(flags, all.map(formatPublished).join('\n\n') || '(no benchmarks released)', all);
      });
    });
}
