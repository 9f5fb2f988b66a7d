import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { SweepResultsSchema } from './sweep';
import { TINY } from './tiny.fixture';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('coopfl-sim run --sweep epsilon=8,inf (CLI, central DP)', () => {
  it('writes a sweep with the ε spent from the ledger and a privacy/utility plot', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'coopfl-sim-cli-'));
    dirs.push(dir);
    const config = join(dir, 'experiment.json');
    await writeFile(config, JSON.stringify({ ...TINY, models: ['fraud'] }));
    const out = join(dir, 'out');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        'sim/src/cli.ts',
        'run',
        '--config',
        config,
        '--sweep',
        'epsilon=8,inf',
        '--out',
        out,
      ],
      { cwd: root, maxBuffer: 16 << 20 },
    );
    const line = JSON.parse(stdout) as { results: string; report: string };
    expect(line.results).toBe(join(out, 'results.json'));
    const sweep = SweepResultsSchema.parse(JSON.parse(await readFile(line.results, 'utf8')));
    expect(sweep.runs.map((r) => r.label)).toEqual(['8', 'inf']);
    const [dp, plain] = sweep.runs.map((r) => r.results.models[0]!);
    expect(dp!.privacy).toMatchObject({ mode: 'central', unit: 'member', epsilonTarget: 8 });
    expect(dp!.privacy.epsilonSpent).toBeGreaterThan(0);
    expect(dp!.privacy.epsilonSpent).toBeLessThanOrEqual(8);
    expect(dp!.privacy.ledgerRows).toBe(3 * 2); // every member, every round
    expect(plain!.privacy).toMatchObject({ mode: 'off', epsilonSpent: null, ledgerRows: 0 });
    const html = await readFile(line.report, 'utf8');
    expect(html.includes('privacy / utility')).toBe(true);
    expect(html.includes('privacy unit <b>member</b>')).toBe(true);
  }, 90_000);
});
