import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { z } from 'zod';
import { progressLine } from '../progress';
import { UsageError, parseOptions } from '../usage';
import type { ExperimentConfigInput } from './config';
import { parseExperimentConfig } from './config';
import type { ExperimentResults } from './results';
import type { ExperimentProgress } from './run';
import { runExperiment } from './run';
import type { SweepResults } from './sweep';
import { parseSweep, runSweep, writeOutputs } from './sweep';

const num = z.coerce.number({ error: 'must be a number' });

/** CLI flags as commander gives them (strings), checked here and again by the config schema. */
const RunFlags = z.object({
  config: z.string().min(1).optional(),
  data: z
    .string()
    .regex(/^(synthetic|canonical:.+)$/, 'must be synthetic or canonical:DIR')
    .optional(),
  stores: num.int('must be an integer').optional(),
  rounds: num.int('must be an integer').optional(),
  models: z
    .string()
    .transform((s) => s.split(',').map((m) => m.trim()))
    .optional(),
  dp: z
    .enum(['off', 'central', 'distributed'], { error: 'must be off, central or distributed' })
    .optional(),
  epsilon: z
    .string()
    .regex(/^(inf|[0-9.eE+-]+)$/, 'must be a number or inf')
    .optional(),
  dropout: num.optional(),
  transport: z.enum(['http', 'memory'], { error: 'must be http or memory' }).optional(),
  workers: num.int('must be an integer').optional(),
  stragglers: num.optional(),
  stragglerDelayMs: num.int('must be an integer').optional(),
  seed: num.int('must be an integer').optional(),
  epochs: num.int('must be an integer').optional(),
  stageTimeoutMs: num.int('must be an integer').optional(),
  out: z.string().min(1).default('./sim-results'),
  sweep: z.string().optional(),
  malicious: num.optional(),
  attack: z.enum(['scale', 'sign-flip'], { error: 'must be scale or sign-flip' }).optional(),
});

/** Merges a config file (JSON) and flags (flags win) into a config input. */
async function configFrom(f: z.infer<typeof RunFlags>): Promise<ExperimentConfigInput> {
  let base: Record<string, unknown> = {};
  if (f.config) {
    const text = await readFile(f.config, 'utf8').catch(() => {
      throw new UsageError(`--config: cannot read ${f.config}`);
    });
    try {
      base = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new UsageError(`--config: ${f.config} is not valid JSON`);
    }
  }
  const cfg: Record<string, unknown> = { ...base };
  const fileData = base.data as { source?: unknown } | undefined;
  if (f.data === 'synthetic' && fileData?.source !== 'synthetic')
    cfg.data = { source: 'synthetic' };
  else if (f.data) cfg.data = { source: 'canonical', dir: f.data.slice('canonical:'.length) };
  if (f.stores !== undefined) cfg.stores = f.stores;
  if (f.rounds !== undefined) cfg.rounds = f.rounds;
  if (f.models) cfg.models = f.models;
  if (f.dp) cfg.dp = f.dp;
  if (f.epsilon === 'inf') cfg.dp = 'off';
  else if (f.epsilon !== undefined) cfg.epsilon = Number(f.epsilon);
  if (f.dropout !== undefined) cfg.dropout = f.dropout;
  if (f.transport) cfg.transport = f.transport;
  if (f.workers !== undefined) cfg.workers = f.workers;
  if (f.stragglers !== undefined || f.stragglerDelayMs !== undefined) {
    cfg.stragglers = {
      ...(cfg.stragglers as Record<string, unknown> | undefined),
      ...(f.stragglers === undefined ? {} : { fraction: f.stragglers }),
      ...(f.stragglerDelayMs === undefined ? {} : { delayMs: f.stragglerDelayMs }),
    };
  }
  if (f.seed !== undefined) cfg.seed = f.seed;
  if (f.stageTimeoutMs !== undefined) cfg.stageTimeoutMs = f.stageTimeoutMs;
  if (f.malicious !== undefined || f.attack !== undefined) {
    cfg.malicious = {
      ...(cfg.malicious as Record<string, unknown> | undefined),
      ...(f.malicious === undefined ? {} : { fraction: f.malicious }),
      ...(f.attack === undefined ? {} : { attack: f.attack }),
    };
  }
  if (f.epochs !== undefined) {
    cfg.training = { ...(cfg.training as Record<string, unknown> | undefined), epochs: f.epochs };
  }
  return cfg;
}

function showProgress(p: ExperimentProgress): void {
  switch (p.phase) {
    case 'data':
      return progressLine('run: data', p.done, p.total);
    case 'nodes':
      return progressLine('run: nodes joined', p.done, p.total);
    case 'prepare':
    case 'local':
      return progressLine(`run: ${p.model} ${p.phase}`, p.done, p.total);
    case 'centralized':
      return progressLine(`run: ${p.model} centralized`, 0, 1);
    case 'round':
      return progressLine(`run: ${p.model} rounds (last ${p.status})`, p.done, p.total);
    case 'reference':
      return progressLine(
        `run: ${p.model} no-DP reference rounds (last ${p.status})`,
        p.done,
        p.total,
      );
  }
}

/**
 * Registers `run`: a whole cooperative on this machine — a real coordinator and one real node
 * per shop over HTTP on 127.0.0.1 — comparing federated, local-only and centralized training and
 * the baselines on every shop's held-out data. Writes `OUT/results.json` and `OUT/report.html`;
 * prints one JSON line (the files and the median-shop main metric per arm) on stdout.
 *
 * @example
 * // pnpm coopfl-sim run --stores 5 --rounds 10 --models demand,fraud --seed 7 --out ./sim-out
 * // pnpm coopfl-sim run --stores 5 --rounds 10 --sweep epsilon=1,3,8,inf
 * registerRunCommand(program);
 */
export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('simulate a cooperative: federated vs local-only vs centralized, with a report')
    .option('--config <file>', 'experiment config (JSON, see sim/src/experiment/README.md)')
    .option('--data <source>', 'synthetic (default) or canonical:DIR')
    .option('--stores <n>', 'number of shops (default 5)')
    .option('--rounds <r>', 'federated training rounds (default 5)')
    .option('--models <list>', 'comma-separated: demand,recommendation,fraud (default all)')
    .option('--dp <mode>', 'off | central | distributed (default off)')
    .option(
      '--epsilon <e>',
      'target ε over all rounds with --dp central|distributed; inf = no DP (default 8)',
    )
    .option('--dropout <f>', 'fraction of shops offline in each round (default 0)')
    .option(
      '--transport <t>',
      'http: nodes reach the coordinator over HTTP on 127.0.0.1 (default); memory: in-process',
    )
    .option(
      '--workers <n>',
      'worker threads for the nodes (default: one per core); 0 runs them all in this thread',
    )
    .option('--stragglers <f>', 'fraction of shops that start each round late (default 0)')
    .option('--straggler-delay-ms <ms>', 'how late stragglers start (default 5000)')
    .option('--seed <s>', 'experiment seed (default 1)')
    .option('--epochs <e>', 'local epochs per round (default 1)')
    .option(
      '--stage-timeout-ms <ms>',
      'how long a SecAgg stage waits for dropped shops (default 30000 with --dropout, else 600000)',
    )
    .option('--sweep <grid>', 'epsilon=1,3,8,inf or stores=5,20: one run per value')
    .option('--malicious <f>', 'fraction of shops sending corrupted updates (default 0)')
    .option('--attack <a>', 'scale (×10, default) | sign-flip')
    .option('--out <dir>', 'output directory (default ./sim-results)')
    .action(async (raw: unknown) => {
      const flags = parseOptions(RunFlags, raw);
      const input = await configFrom(flags);
      const onProgress = showProgress;
      let results: ExperimentResults | SweepResults;
      if (flags.sweep) {
        const sweep = parseSweep(flags.sweep);
        results = await runSweep(input, sweep, {
          onProgress,
          onRun: (label, i, n) => progressLine(`run: sweep ${sweep.param}=${label}`, i, n),
        });
      } else {
        parseExperimentConfig(input);
        results = await runExperiment(input, { onProgress });
      }
      if (process.stderr.isTTY) process.stderr.write('\n');
      const files = await writeOutputs(flags.out, results);
      const runs = 'runs' in results ? results.runs : [{ label: 'run', results }];
      const summary = runs.map((r) => ({
        label: r.label,
        models: r.results.models.map((m) => ({
          model: m.kind,
          metric: m.mainMetric,
          federated: m.summary.federated_best?.median[m.mainMetric] ?? null,
          local: m.summary.local?.median[m.mainMetric] ?? null,
          centralized: m.summary.centralized?.median[m.mainMetric] ?? null,
          epsilonSpent: m.privacy.epsilonSpent,
          unit: m.privacy.unit,
        })),
        wallSeconds: r.results.timing.wallSeconds,
      }));
      process.stdout.write(`${JSON.stringify({ ...files, runs: summary })}\n`);
    });
}
