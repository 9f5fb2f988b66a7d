import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { cryptoReady } from '@coopfl/protocol';
import { chromiumAvailable, launchChromium } from '@coopfl/dashboard/chromium';
import { aggregationText, renderReport } from './report';
import type { SweepResults } from './sweep';
import { fixtureResults } from './testing';

const root = fileURLToPath(new URL('../../..', import.meta.url));

beforeAll(async () => {
  await cryptoReady();
});

describe('report.html', () => {
  it('is self-contained: inline SVG plots, no script, no network reference', async () => {
    const html = await renderReport(fixtureResults());
    // metric by round + per shop for each of the 3 models, plus the two cost charts
    expect(html.match(/<svg/g)?.length).toBe(8);
    expect(/<script|<link|src=["']http|@import/.test(html)).toBe(false);
    expect(html.includes('demand — main metric wape (lower is better)')).toBe(true);
    expect(html.includes('per shop (largest shop first)')).toBe(true);
  });

  it('names the server optimizer and how members are weighted', () => {
    const cfg = (strategy: unknown, maxWeight: number, mode = 'off') => ({
      strategy,
      maxWeight,
      dp: { mode },
    });
    expect(aggregationText(cfg({ kind: 'fedadam', eta: 0.03 }, 1))).toBe(
      'fedadam (eta 0.03, beta1 0.9, beta2 0.99, tau 0.001); every shop weighs the same',
    );
    expect(aggregationText(cfg({ kind: 'fedavg' }, 1e6))).toBe(
      'fedavg (eta 1); each shop weighed by its training examples',
    );
    expect(aggregationText(cfg({ kind: 'fedavg' }, 500))).toContain('capped at 500');
    // The coordinator weighs every member 1 under DP, whatever the cap.
    expect(aggregationText(cfg({ kind: 'fedavg' }, 500, 'central'))).toContain('weighs the same');
    expect(aggregationText({})).toBe('not recorded');
  });

  it('draws the privacy/utility curve of an ε sweep', async () => {
    const a = fixtureResults(4, 3, 1);
    const sweep: SweepResults = {
      schema: 'coopfl-sim/sweep@1',
      param: 'epsilon',
      runs: [
        { label: '1', results: withEpsilon(a, 1) },
        { label: '8', results: withEpsilon(a, 8) },
        { label: 'inf', results: a },
      ],
    };
    const html = await renderReport(sweep);
    // (booleans, not toContain: a failure would print the whole report)
    expect(html.includes('privacy / utility')).toBe(true);
    expect(html.includes('ε = ∞ (no DP) is drawn at 80.')).toBe(true);
  });
});

function withEpsilon(r: ReturnType<typeof fixtureResults>, eps: number) {
  return {
    ...r,
    models: r.models.map((m) => ({
      ...m,
      privacy: { ...m.privacy, mode: 'central' as const, epsilonTarget: eps, epsilonSpent: eps },
    })),
  };
}

const hasChromium = chromiumAvailable('report screenshot test');

describe.skipIf(!hasChromium)('report.html in headless Chromium', () => {
  it('shows the plots (screenshot under test-results/)', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.setContent('<!doctype html><html><body></body></html>');
      const blank = await page.screenshot({ fullPage: true });
      await page.setContent(await renderReport(fixtureResults()));
      const svgs = await Promise.all(
        (await page.locator('svg').all()).map(async (l) => (await l.boundingBox())?.width ?? 0),
      );
      expect(svgs.length).toBe(8);
      expect(svgs.every((w) => w > 100)).toBe(true);
      const shot = await page.screenshot({ fullPage: true });
      const dir = join(root, 'test-results');
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'sim-report.png'), shot);
      // A blank page compresses to almost nothing; plots and tables do not.
      expect(shot.length).toBeGreaterThan(20 * blank.length);
      expect(shot.length).toBeGreaterThan(50_000);
      expect(requests.filter((u) => !u.startsWith('about:') && !u.startsWith('data:'))).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
