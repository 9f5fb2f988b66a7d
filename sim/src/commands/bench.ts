import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { benchDpSgd } from '@coopfl/node';
import { benchSecAgg } from '../bench/secagg';
import { parseOptions } from '../usage';
import { progressLine } from '../progress';

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

/** The standard grid `pnpm bench` runs. */
const GRID = [
  { clients: 10, params: 10_000, dropout: 0 },
  { clients: 100, params: 100_000, dropout: 0.1 },
  { clients: 1000, params: 10_000, dropout: 0.1 },
];

function stageProgress(label: string) {
  const stages = ['advertise', 'shares', 'masked', 'unmask'];
  return (stage: string, i: number) =>
    progressLine(`${label}: stage ${i + 1}/4 ${stage}`, i, stages.length);
}

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
    .command('training')
    .description(
      'training step time and throughput on the active TF.js backend, plain and DP-SGD (R1–R3)',
    )
    .option('--models <list>', 'reference models', 'R1,R2,R3')
    .option('--steps <n>', 'timed steps per model', '20')
    .action(async (raw: { models: string; steps: string }) => {
      const models = raw.models.split(',').map((m) => m.trim()) as ('R1' | 'R2' | 'R3')[];
      const results = await benchDpSgd({ models, steps: Number(raw.steps) });
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
      const doc = {
        machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
        at: new Date().toISOString(),
        results,
      };
      await mkdir(dirname(raw.out), { recursive: true });
      await writeFile(raw.out, `${JSON.stringify(doc, null, 2)}\n`);
      process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
      process.stderr.write(`wrote ${raw.out}\n`);
    });
}
