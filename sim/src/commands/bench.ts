import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { REFERENCE_MODELS, benchDpSgd } from '@coopfl/node';
import type { ReferenceModelName } from '@coopfl/node';
import { benchRound } from '../bench/round';
import { benchSecAgg } from '../bench/secagg';
import { progressLine } from '../progress';
import { UsageError } from '../usage';
import { parseOptions } from '../usage';

const SecAggOptions = z.object({
  clients: z.coerce.number().int().min(2).max(65536),
  params: z.coerce
    .number()
    .int()
    .min(1)
    .max(2 ** 26),
  neighbors: z.coerce.number().int().min(1).optional(),
  dropout: z.coerce.number().min(0).max(0.9).default(0),
  seed: z.coerce.number().int().default(1),
  json: z.boolean().default(false),
});
const RoundOptions = SecAggOptions.omit({ neighbors: true }).extend({
  db: z.string().min(1).optional(),
  warmup: z.coerce.number().int().min(0).max(100).default(1),
  repeat: z.coerce.number().int().min(1).max(100).default(3),
});

/** The standard secure-aggregation grid `pnpm bench` runs. */
const GRID = [
  { clients: 10, params: 10_000, dropout: 0 },
  { clients: 100, params: 100_000, dropout: 0.1 },
  { clients: 1000, params: 10_000, dropout: 0.1 },
];

function stageProgress(label: string) {
  return (stage: string, i: number) => progressLine(`${label}: stage ${i + 1}/4 ${stage}`, i, 4);
}

/** The round benchmark's database: the flag, else $DATABASE_URL, else embedded PGlite. */
const roundDb = (flag?: string) => flag ?? process.env.DATABASE_URL ?? 'memory://';

export function registerBenchCommands(program: Command): void {
  const bench = program.command('bench').description('benchmarks (JSON output)');

  bench
    .command('secagg')
    .description('one complete secure-aggregation round in this process')
    .requiredOption('--clients <n>', 'number of clients')
    .requiredOption('--params <d>', 'parameters per update')
    .option(
      '--neighbors <k>',
      'neighbours per client (default: complete up to 32 clients, else ~3·log2 n)',
    )
    .option('--dropout <f>', 'fraction of clients dropping before their masked input', '0')
    .option('--seed <s>', 'seed for inputs and dropouts', '1')
    .option('--json', 'print one JSON object only')
    .action(async (raw: unknown) => {
      const o = parseOptions(SecAggOptions, raw);
      const result = await benchSecAgg({
        ...o,
        ...(o.json ? {} : { onStage: stageProgress('secagg') }),
      });
      process.stdout.write(`${JSON.stringify(result, null, o.json ? 0 : 2)}\n`);
    });

  bench
    .command('round')
    .description(
      'full training rounds over HTTP on loopback (coordinator + member nodes): a fresh coordinator’s first round, then the median of the measured rounds',
    )
    .requiredOption('--clients <n>', 'number of member nodes')
    .requiredOption('--params <d>', 'model parameters')
    .option(
      '--dropout <f>',
      'fraction of members vanishing before their masked input (the round then waits for a 2 s stage deadline)',
      '0',
    )
    .option('--seed <s>', 'seed for updates and dropouts', '1')
    .option(
      '--warmup <n>',
      'rounds the same coordinator and members run before the measured ones; the first is reported as first_round (it includes V8 compiling the code paths once per process); 0 measures from the first round',
      '1',
    )
    .option('--repeat <n>', 'measured rounds; the headline figures are their medians', '3')
    .option(
      '--db <url>',
      "coordinator database: a PostgreSQL server URL (a throw-away database is made on it) or 'memory://'; default $DATABASE_URL, else memory://",
    )
    .option('--json', 'print one JSON object only')
    .action(async (raw: unknown) => {
      const o = parseOptions(RoundOptions, raw);
      const result = await benchRound({
        ...o,
        db: roundDb(o.db),
        ...(o.json
          ? {}
          : { onProgress: (l: string, d: number, t: number) => progressLine(l, d, t) }),
      });
      process.stdout.write(`${JSON.stringify(result, null, o.json ? 0 : 2)}\n`);
    });

  bench
    .command('training')
    .description(
      'training step time and throughput on the active TF.js backend, plain and DP-SGD (R1–R3 and the default demand, recommendation and fraud networks)',
    )
    .option('--models <list>', 'models', REFERENCE_MODELS.join(','))
    .option('--steps <n>', 'timed steps per model', '20')
    .action(async (raw: { models: string; steps: string }) => {
      const models = raw.models.split(',').map((m) => m.trim());
      const unknown = models.find((m) => !(REFERENCE_MODELS as readonly string[]).includes(m));
      if (unknown !== undefined) {
        throw new UsageError(
          `--models: unknown model "${unknown}" (one of ${REFERENCE_MODELS.join(', ')})`,
        );
      }
      const results = await benchDpSgd({
        models: models as ReferenceModelName[],
        steps: Number(raw.steps),
      });
      process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    });

  bench
    .command('all')
    .description('the standard grid; writes all results as JSON')
    .option('--out <file>', 'where to write the JSON results', 'bench-results/latest.json')
    .action(async (raw: { out: string }) => {
      const results: unknown[] = [];
      for (const [i, g] of GRID.entries()) {
        const label = `secagg ${i + 1}/${GRID.length} n=${g.clients} d=${g.params}`;
        const r = await benchSecAgg({ ...g, seed: 1, onStage: stageProgress(label) });
        process.stderr.write(
          `\n${label}: client p50 ${r.client_ms.p50} ms, server ${r.server_ms} ms, correct ${r.correct}\n`,
        );
        results.push(r);
      }
      const dbs = ['memory://', ...(process.env.DATABASE_URL ? [process.env.DATABASE_URL] : [])];
      for (const db of dbs) {
        const label = `round n=50 d=100000 (${db.startsWith('postgres') ? 'PostgreSQL' : 'PGlite'})`;
        const r = await benchRound({
          db,
          clients: 50,
          params: 100_000,
          dropout: 0,
          seed: 1,
          onProgress: (l, d, t) => progressLine(`${label} ${l}`, d, t),
        });
        process.stderr.write(
          `\n${label}: median of ${r.rounds.length} rounds: wall ${r.round_wall_ms} ms, coordinator overhead ${r.coordinator_overhead_ms} ms, CPU ${r.coordinator_cpu_ms} ms; first round: overhead ${r.first_round?.coordinator_overhead_ms} ms\n`,
        );
        results.push(r);
      }
      process.stderr.write(`training: ${REFERENCE_MODELS.join(', ')} plain and DP-SGD steps…\n`);
      for (const t of await benchDpSgd({ models: REFERENCE_MODELS, steps: 20 })) {
        process.stderr.write(
          `${t.model}: ${Math.round(t.samples_per_s_plain)} samples/s plain; DP-SGD step ${t.ratio.toFixed(2)}× plain (${t.backend})\n`,
        );
        results.push({ bench: 'training', ...t });
      }
      const doc = {
        machine: { cpus: cpus().length, node: process.version },
        at: new Date().toISOString(),
        results,
      };
      await mkdir(dirname(raw.out), { recursive: true });
      await writeFile(raw.out, `${JSON.stringify(doc, null, 2)}\n`);
      process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
      process.stderr.write(`wrote ${raw.out}\n`);
    });
}
