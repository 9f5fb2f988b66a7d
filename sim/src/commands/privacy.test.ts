import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../..', import.meta.url));
const cli = (args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'sim/src/cli.ts', ...args], { cwd: root });

describe('coopfl-sim privacy', () => {
  it('epsilon prints the RDP ε as JSON', async () => {
    const { stdout } = await cli([
      'privacy',
      'epsilon',
      '--noise-multiplier',
      '1.0',
      '--sampling-rate',
      '0.01',
      '--steps',
      '1000',
      '--delta',
      '1e-5',
    ]);
    const r = JSON.parse(stdout) as Record<string, unknown>;
    expect(r).toMatchObject({
      mechanism: 'gaussian',
      accountant: 'rdp',
      order: 7.8,
      delta: 1e-5,
      steps: 1000,
    });
    expect(r.epsilon as number).toBeCloseTo(2.1014, 3);
  });

  it('calibrate prints a noise multiplier meeting the target', async () => {
    const { stdout } = await cli([
      'privacy',
      'calibrate',
      '--epsilon',
      '2',
      '--sampling-rate',
      '0.01',
      '--steps',
      '1000',
      '--delta',
      '1e-5',
    ]);
    const r = JSON.parse(stdout) as { noise_multiplier: number; epsilon: number };
    expect(r.epsilon).toBeLessThanOrEqual(2);
    expect(r.epsilon).toBeGreaterThanOrEqual(1.98);
    expect(r.noise_multiplier).toBeGreaterThan(1);
  });

  it('names a bad option and exits with code 2', async () => {
    const err = (await cli([
      'privacy',
      'epsilon',
      '--noise-multiplier',
      '1',
      '--sampling-rate',
      '1.5',
      '--steps',
      '10',
      '--delta',
      '1e-5',
    ]).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(2);
    expect(err.stderr).toMatch(/--sampling-rate: must be in \(0, 1\]/);
  });
});
