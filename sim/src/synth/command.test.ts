import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../..', import.meta.url));
const cli = (args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'sim/src/cli.ts', ...args], { cwd: root });
const dirs: string[] = [];

afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('coopfl-sim data synth', () => {
  it('writes the files and prints a JSON summary with rows and shop sizes', async () => {
    const out = await mkdtemp(join(tmpdir(), 'coopfl-synth-cli-'));
    dirs.push(out);
    const { stdout, stderr } = await cli([
      'data',
      'synth',
      '--out',
      out,
      '--shops',
      '3',
      '--seed',
      '5',
      '--days',
      '60',
      '--customers-per-shop',
      '40',
      '--fraud-rate',
      '0.01,0.02',
      '--daily-sales',
    ]);
    expect(stderr).toContain('3/3');
    const r = JSON.parse(stdout) as {
      seed: number;
      rows: Record<string, number>;
      shops: { store_id: string; customers: number; orders: number; fraud_rate: number }[];
    };
    expect(r.seed).toBe(5);
    expect(Object.keys(r.rows).sort()).toEqual((await readdir(out)).sort());
    expect(r.rows['daily_sales.csv']).toBeGreaterThan(0);
    expect(r.shops.map((s) => s.store_id)).toEqual(['shop-01', 'shop-02', 'shop-03']);
    expect(r.shops.reduce((n, s) => n + s.orders, 0)).toBe(r.rows['orders.csv']);
  });

  it('names a bad option and exits with code 2', async () => {
    await expect(
      cli(['data', 'synth', '--out', '/tmp/never', '--shops', '0']),
    ).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--shops') as unknown });
    await expect(
      cli(['data', 'synth', '--out', '/tmp/never', '--size-skew', 'lots']),
    ).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--size-skew') as unknown });
  });
});
