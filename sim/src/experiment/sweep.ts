import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../usage';
import type { ExperimentConfigInput } from './config';
import { parseExperimentConfig } from './config';
import { renderReport } from './report';
import type { ExperimentResults } from './results';
import { ResultsSchema } from './results';
import type { RunExperimentOptions } from './run';
import { runExperiment } from './run';

/** A grid over one parameter: `epsilon` (`inf` = no DP) or `stores`. */
export interface Sweep {
  readonly param: 'epsilon' | 'stores';
  readonly values: readonly string[];
}

/** `results.json` of a sweep: one full result per grid value. */
export const SweepResultsSchema = z.object({
  schema: z.literal('coopfl-sim/sweep@1'),
  param: z.enum(['epsilon', 'stores']),
  runs: z.array(z.object({ label: z.string(), results: ResultsSchema })),
});
export type SweepResults = z.infer<typeof SweepResultsSchema>;

/**
 * Parses `epsilon=1,3,8,inf` or `stores=5,20` into a {@link Sweep}.
 *
 * @example
 * parseSweep('epsilon=1,8,inf'); // { param: 'epsilon', values: ['1', '8', 'inf'] }
 */
export function parseSweep(spec: string): Sweep {
  const m = /^(epsilon|stores)=([^=]+)$/.exec(spec.trim());
  if (!m) throw new UsageError('--sweep: must be epsilon=E1,E2,… or stores=N1,N2,…');
  const param = m[1] as Sweep['param'];
  const values = m[2]!.split(',').map((v) => v.trim());
  for (const v of values) {
    const ok =
      param === 'epsilon'
        ? v === 'inf' || (Number.isFinite(Number(v)) && Number(v) > 0)
        : Number.isInteger(Number(v)) && Number(v) >= 2;
    if (!ok) throw new UsageError(`--sweep: ${param} value "${v}" is not valid`);
  }
  return { param, values };
}

/** The config of one grid point: ε = inf turns DP off; a finite ε turns central DP on. */
export function sweepConfig(
  base: ExperimentConfigInput,
  param: Sweep['param'],
  value: string,
): ExperimentConfigInput {
  if (param === 'stores') return { ...base, stores: Number(value) };
  return value === 'inf'
    ? { ...base, dp: 'off' }
    : { ...base, dp: 'central', epsilon: Number(value), privacyReference: false };
}

/**
 * Runs an experiment per grid value (sequentially: the machine is the bottleneck), with the same
 * seed, so the only difference between runs is the swept parameter.
 *
 * @example
 * const s = await runSweep({ stores: 5, rounds: 10 }, parseSweep('epsilon=1,8,inf'));
 */
export async function runSweep(
  base: ExperimentConfigInput,
  sweep: Sweep,
  opts: RunExperimentOptions & { onRun?: (label: string, i: number, n: number) => void } = {},
): Promise<SweepResults> {
  // Fail on a bad grid point before spending minutes on the first ones.
  for (const v of sweep.values) parseExperimentConfig(sweepConfig(base, sweep.param, v));
  const runs: SweepResults['runs'] = [];
  for (const [i, label] of sweep.values.entries()) {
    opts.onRun?.(label, i, sweep.values.length);
    runs.push({ label, results: await runExperiment(sweepConfig(base, sweep.param, label), opts) });
  }
  return { schema: 'coopfl-sim/sweep@1', param: sweep.param, runs };
}

/**
 * Writes `DIR/results.json` and the self-contained `DIR/report.html`.
 *
 * @example
 * const files = await writeOutputs('./sim-out', results);
 */
export async function writeOutputs(
  dir: string,
  results: ExperimentResults | SweepResults,
): Promise<{ results: string; report: string }> {
  await mkdir(dir, { recursive: true });
  const files = { results: join(dir, 'results.json'), report: join(dir, 'report.html') };
  await writeFile(files.results, `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(files.report, await renderReport(results));
  return files;
}
