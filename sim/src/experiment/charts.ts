import * as vega from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import { compile } from 'vega-lite';

/**
 * Renders a Vega-Lite spec to an SVG string in Node, without a browser or network (Vega's
 * headless `renderer: 'none'` + `toSVG`). The SVG is inlined into the self-contained report.
 *
 * @example
 * const svg = await renderSvg({ data: { values }, mark: 'line', encoding: { … } });
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const ARM_COLORS = {
  domain: [
    'federated',
    'federated + fine-tuning',
    'federated, no DP',
    'local-only',
    'centralized',
    'baseline',
  ],
  range: ['#1f77b4', '#9467bd', '#17becf', '#ff7f0e', '#2ca02c', '#7f7f7f'],
};

/** Federated mean metric per round, with the other arms as horizontal reference lines. */
export function roundChart(
  metric: string,
  rounds: readonly { round: number; value: number | null }[],
  refs: readonly { arm: string; label: string; value: number | null }[],
): TopLevelSpec {
  const pts = rounds.filter((r) => r.value !== null);
  const lines = refs.filter((r) => r.value !== null);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${metric} (mean over shops) by round`,
    width: 420,
    height: 240,
    layer: [
      {
        data: { values: pts.map((p) => ({ ...p, arm: 'federated' })) },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'round', type: 'quantitative', title: 'round', axis: { tickMinStep: 1 } },
          y: { field: 'value', type: 'quantitative', title: metric, scale: { zero: false } },
          color: { field: 'arm', type: 'nominal', scale: ARM_COLORS, title: 'arm' },
        },
      },
      {
        data: { values: lines.map((l) => ({ ...l })) },
        mark: { type: 'rule', strokeDash: [6, 4] },
        encoding: {
          y: { field: 'value', type: 'quantitative' },
          color: { field: 'arm', type: 'nominal', scale: ARM_COLORS },
        },
      },
      {
        data: { values: lines.map((l) => ({ ...l })) },
        mark: { type: 'text', align: 'left', dx: 4, dy: -6, fontSize: 10 },
        encoding: {
          x: { datum: 1 },
          y: { field: 'value', type: 'quantitative' },
          text: { field: 'label' },
          color: { field: 'arm', type: 'nominal', scale: ARM_COLORS },
        },
      },
    ],
  };
}

/** Per shop (largest first): the main metric of federated, local-only and centralized. */
export function perShopChart(
  metric: string,
  rows: readonly { shop: string; rank: number; arm: string; value: number }[],
): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${metric} per shop (largest shop first)`,
    width: { step: 14 },
    height: 220,
    data: { values: rows.map((r) => ({ ...r })) },
    mark: 'bar',
    encoding: {
      x: {
        field: 'shop',
        type: 'nominal',
        sort: { field: 'rank', order: 'ascending' },
        title: 'shop',
      },
      xOffset: { field: 'arm', type: 'nominal' },
      y: { field: 'value', type: 'quantitative', title: metric },
      color: { field: 'arm', type: 'nominal', scale: ARM_COLORS, title: 'arm' },
      tooltip: [{ field: 'shop' }, { field: 'arm' }, { field: 'value', format: '.4f' }],
    },
  };
}

/** Bytes up and down per model, and seconds per round. */
export function costChart(
  rows: readonly { model: string; direction: string; megabytes: number }[],
): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'traffic through the coordinator (MB)',
    width: 260,
    height: 160,
    data: { values: rows.map((r) => ({ ...r })) },
    mark: 'bar',
    encoding: {
      y: { field: 'model', type: 'nominal', title: null },
      yOffset: { field: 'direction', type: 'nominal' },
      x: { field: 'megabytes', type: 'quantitative', title: 'MB' },
      color: { field: 'direction', type: 'nominal', title: null },
    },
  };
}

/** Seconds per federated round, per model. */
export function roundTimeChart(
  rows: readonly { model: string; round: number; seconds: number }[],
): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'wall time per federated round (s)',
    width: 300,
    height: 160,
    data: { values: rows.map((r) => ({ ...r })) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'round', type: 'quantitative', axis: { tickMinStep: 1 } },
      y: { field: 'seconds', type: 'quantitative' },
      color: { field: 'model', type: 'nominal' },
    },
  };
}

/** Privacy/utility: main metric (median shop) against ε spent, one line per model. */
export function privacyUtilityChart(
  rows: readonly { model: string; epsilon: number; label: string; value: number }[],
): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'privacy / utility (median shop, federated final)',
    width: 360,
    height: 220,
    data: { values: rows.map((r) => ({ ...r })) },
    mark: { type: 'line', point: true },
    encoding: {
      x: {
        field: 'epsilon',
        type: 'quantitative',
        scale: { type: 'log' },
        title: 'ε (member-level)',
      },
      y: { field: 'value', type: 'quantitative', title: 'main metric', scale: { zero: false } },
      color: { field: 'model', type: 'nominal' },
      tooltip: [{ field: 'model' }, { field: 'label' }, { field: 'value', format: '.4f' }],
    },
  };
}
