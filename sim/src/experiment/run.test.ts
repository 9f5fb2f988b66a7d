import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ARMS, ResultsSchema } from './results';
import { runExperiment } from './run';
import { writeOutputs } from './sweep';
import { TINY } from './tiny.fixture';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('coopfl-sim run: a tiny cooperative (3 shops, 2 rounds)', () => {
  it('trains through the real coordinator and nodes and writes results.json + report.html', async () => {
    const progress: string[] = [];
    const counts: Record<string, number[]> = {};
    const results = await runExperiment(
      { ...TINY, models: ['recommendation', 'fraud'] },
      {
        onProgress: (p) => {
          progress.push(p.phase);
          if ('done' in p) (counts[`${p.phase}:${p.total}`] ??= []).push(p.done);
        },
      },
    );
    const out = await mkdtemp(join(tmpdir(), 'coopfl-sim-run-'));
    dirs.push(out);
    const files = await writeOutputs(out, results);
    const parsed = ResultsSchema.parse(JSON.parse(await readFile(files.results, 'utf8')));
    expect(parsed.shops).toHaveLength(3);
    expect(parsed.models.map((m) => m.kind)).toEqual(['recommendation', 'fraud']);
    for (const m of parsed.models) {
      expect(m.rounds.map((r) => [r.status, r.resultVersion, r.survivors])).toEqual([
        ['done', 1, 3],
        ['done', 2, 3],
      ]);
      expect(m.privacy).toMatchObject({ mode: 'off', unit: 'member', epsilonSpent: null });
      expect(m.cost.bytesUp).toBeGreaterThan(0);
      expect(m.cost.bytesDown).toBeGreaterThan(m.cost.bytesUp);
      for (const arm of ARMS) {
        expect(m.summary[arm]?.shops).toBeGreaterThan(0);
        expect(typeof m.summary[arm]?.median[m.mainMetric]).toBe('number');
      }
      expect(Object.keys(m.summary).some((k) => k.startsWith('baseline:'))).toBe(true);
      // The personalized arm is compared with local-only on the same shops as the global model.
      expect(m.comparison.personalized?.shopsCompared).toBe(m.comparison.shopsCompared);
      // Each shop's personalized model is its fine-tuned copy or, where its validation data
      // prefers it, the final global model itself (then its test metrics are the same).
      for (const s of m.shops) {
        const [tuned, final] = [s.arms.federated_tuned, s.arms.federated_final];
        if (tuned && final && tuned.loss === final.loss) expect(tuned).toEqual(final);
      }
    }
    expect(progress).toContain('round');
    // Per-node progress counts up to the total, whichever worker thread a node runs in.
    for (const phase of ['nodes', 'prepare', 'local']) {
      expect(counts[`${phase}:3`]?.slice(-3), phase).toEqual([1, 2, 3]);
    }
    const html = await readFile(files.report, 'utf8');
    expect(html.includes('<svg')).toBe(true);
    expect(html.includes('fraud — main metric pr_auc')).toBe(true);
    expect(html.includes('Federated + local fine-tuning vs local-only')).toBe(true);
  }, 90_000);
});

describe('coopfl-sim run --dp distributed', () => {
  it('members add the noise (Skellam) before masking; the ledger states the ε actually spent', async () => {
    const results = await runExperiment({
      ...TINY,
      models: ['fraud'],
      dp: 'distributed',
      epsilon: 8,
    });
    const [m] = results.models;
    expect(m!.rounds.map((r) => r.status)).toEqual(['done', 'done']);
    expect(m!.privacy).toMatchObject({ mode: 'distributed', unit: 'member', epsilonTarget: 8 });
    // Calibrated for the Gaussian; the Skellam mechanism's own ε sits close above it at most.
    expect(m!.privacy.epsilonSpent).toBeGreaterThan(4);
    expect(m!.privacy.epsilonSpent).toBeLessThanOrEqual(8 * 1.25);
    expect(m!.privacy.perShop.every((e) => e !== null && e > 0)).toBe(true);
  }, 90_000);
});

describe('coopfl-sim run --dp central --epsilon 8', () => {
  it('states the privacy unit, the ε the ledger records and the quality DP cost', async () => {
    const results = await runExperiment({ ...TINY, models: ['fraud'], dp: 'central', epsilon: 8 });
    const [m] = results.models;
    expect(m!.privacy).toMatchObject({ mode: 'central', unit: 'member', epsilonTarget: 8 });
    expect(m!.privacy.noiseMultiplier).toBeGreaterThan(0);
    expect(m!.privacy.epsilonSpent).toBeGreaterThan(4);
    expect(m!.privacy.epsilonSpent).toBeLessThanOrEqual(8 * 1.25);
    // The no-DP reference: the same rounds from the same initial weights, every shop evaluated.
    const ref = m!.privacy.reference!;
    expect(ref.perShop).toHaveLength(results.shops.length);
    expect(ref.bestRound).not.toBeNull();
    const dp = m!.summary.federated_best!.median.pr_auc!;
    expect(ref.qualityCost).toBeCloseTo((ref.medianMain! - dp) / ref.medianMain!, 9);
    const out = await mkdtemp(join(tmpdir(), 'coopfl-sim-dp-'));
    dirs.push(out);
    const html = await readFile((await writeOutputs(out, results)).report, 'utf8');
    expect(html).toContain('privacy unit <b>member</b>');
    expect(html).toContain('<b>Quality cost</b>');
  }, 120_000);
});
