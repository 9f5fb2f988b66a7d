import type { Command } from 'commander';
import type { PublishedBenchmark } from '@coopfl/coordinator/client';
import { formatKpi, kpi } from '@coopfl/protocol/benchmarks';
import type { NodeBenchmarks } from '../benchmarks';
import { compareRun } from '../benchmarks';
import type { NodeHandle } from '../runtime/member';
import type { GlobalFlags } from './output';
import { out } from './output';

type WithNode = <T>(
  cmd: Command,
  fn: (node: NodeHandle, flags: GlobalFlags) => Promise<T>,
) => Promise<T>;

const QUARTER = ['', 'bottom quarter', 'second quarter', 'third quarter', 'top quarter'];

const dpLine = (r: PublishedBenchmark, confidence: number | undefined) =>
  r.dp.mode === 'off'
    ? 'no DP noise'
    : `${r.dp.mode} DP, ε ${r.dp.epsilon?.toFixed(2) ?? '?'} per member` +
      (confidence === undefined
        ? ''
        : `, intervals at ${+(confidence * 100).toPrecision(6)}% confidence`);

/** The text of `benchmark show`: per published run, the shop's value against the cooperative. */
export function describeBenchmarks(b: NodeBenchmarks): string {
  if (b.published.length === 0) {
    const own = b.own[0];
    if (!own) return 'no benchmarks published yet (the cooperative admin runs them per period)';
    const lines = Object.entries(own.values).map(
      ([id, v]) => `  ${kpi(id).label.padEnd(34)} ${formatKpi(id, v)}`,
    );
    const why =
      b.coordinatorError === undefined
        ? 'no published benchmark yet'
        : `the cooperative's figures are unavailable (${b.coordinatorError})`;
    return [`${own.period}: ${why}; your own values:`, ...lines].join('\n');
  }
  const blocks: string[] = [];
  for (const run of b.published) {
    const own = b.own.find((o) => o.period === run.period);
    if (!own) continue;
    const member = own.peerGroups.includes(run.peerGroup);
    const rows = compareRun(own, run);
    const head = `${run.period} · ${run.peerGroup}${member ? '' : ' (you are not in this group)'} · ${run.contributors} contributor${run.contributors === 1 ? '' : 's'}${run.dp.mode === 'off' ? '' : ' (noisy count)'} · ${dpLine(run, run.kpis[0]?.confidence)}`;
    const table = [
      ['KPI', 'you', 'cooperative mean [interval]', 'q1 / median / q3', 'you are in'],
      ...rows.map((r) => {
        const rel = r.release;
        const coop =
          rel.status !== 'released'
            ? `withheld: ${rel.reason ?? 'below the minimum'}`
            : `${formatKpi(r.kpi, rel.mean)}` +
              (rel.meanInterval && rel.noiseSd > 0
                ? ` [${formatKpi(r.kpi, rel.meanInterval[0])}, ${formatKpi(r.kpi, rel.meanInterval[1])}]`
                : '');
        const q = rel.quartiles ? rel.quartiles.map((v) => formatKpi(r.kpi, v)).join(' / ') : '—';
        return [
          r.label,
          r.own === null ? `— (${r.ownMissing ?? 'not computed'})` : formatKpi(r.kpi, r.own),
          coop,
          q,
          r.quarter === null || !member ? '—' : QUARTER[r.quarter]!,
        ];
      }),
    ];
    const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
    blocks.push(
      [
        head,
        ...table.map((row) =>
          row
            .map((cell, i) => cell.padEnd(widths[i]!))
            .join('  ')
            .trimEnd(),
        ),
      ].join('\n'),
    );
  }
  return blocks.join('\n\n');
}

/** `coopfl-node benchmark show`: the shop's KPIs beside the cooperative's published figures. */
export function benchmarkCommand(program: Command, withNode: WithNode): void {
  const benchmark = program
    .command('benchmark')
    .description("the shop's KPIs against the cooperative's (shared benchmarks)");
  benchmark
    .command('show')
    .description(
      'your own KPIs (computed here, never sent) beside the published cooperative mean and quartiles',
    )
    .option(
      '--period <period>',
      'a month (2026-10), quarter (2026-Q4) or year (default: all published)',
    )
    .action(async (o: { period?: string }, cmd: Command) => {
      await withNode(cmd, async (node, flags) => {
        const b = await node.benchmarks(o.period);
        out(flags, describeBenchmarks(b), b);
      });
    });
}
