import type { TopLevelSpec } from 'vega-lite';
import { z } from 'zod';
import { trainingWeightCap } from '@coopfl/coordinator';
import { StrategyConfigSchema } from '@coopfl/protocol/strategy';
import {
  costChart,
  perShopChart,
  privacyUtilityChart,
  renderSvg,
  roundChart,
  roundTimeChart,
} from './charts';
import { summarize } from './arms';
import type { ExperimentResults, MetricValues, ModelResult } from './results';
import type { SweepResults } from './sweep';

const esc = (s: unknown) =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
const fmt = (v: number | null | undefined, digits = 4) =>
  v === null || v === undefined ? '—' : Number.isInteger(v) ? String(v) : v.toFixed(digits);
const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)} %`);

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}.charts{display:flex;flex-wrap:wrap;gap:16px}
.chart{border:1px solid #eee;padding:6px}.note{color:#555}code{background:#f4f4f4;padding:0 3px}`;

/**
 * The self-contained HTML report (`report.html`) of a run or a sweep: summary tables and SVG
 * plots rendered in Node (no script, no network): metric by round with the local-only,
 * centralized and baseline reference lines, per-shop federated vs local (largest shop first),
 * privacy/utility (sweeps over ε), and cost (traffic and time per round).
 *
 * @example
 * await writeFile(join(out, 'report.html'), await renderReport(results));
 */
export async function renderReport(input: ExperimentResults | SweepResults): Promise<string> {
  const runs: { label: string | null; results: ExperimentResults }[] =
    'runs' in input ? input.runs : [{ label: null, results: input }];
  const param = 'runs' in input ? input.param : '';
  const parts: string[] = [];
  parts.push(`<h1>CoopFL simulation report</h1>`);
  if ('runs' in input) {
    parts.push(
      `<p>Sweep over <code>${esc(input.param)}</code>: ${input.runs.map((r) => esc(r.label)).join(', ')}.</p>`,
    );
    parts.push(await sweepSection(input));
  }
  for (const run of runs) {
    if (run.label !== null) parts.push(`<h2>${esc(param)} = ${esc(run.label)}</h2>`);
    parts.push(await runSection(run.results));
  }
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>CoopFL simulation report</title><style>${STYLE}</style></head><body>${parts.join('\n')}</body></html>\n`;
}

async function chart(spec: TopLevelSpec): Promise<string> {
  return `<div class="chart">${await renderSvg(spec)}</div>`;
}

async function runSection(r: ExperimentResults): Promise<string> {
  const c = r.config;
  const data =
    c.data.source === 'synthetic' ? `synthetic (seed ${r.seed})` : `canonical ${c.data.dir}`;
  const out: string[] = [];
  out.push(
    `<p>${esc(data)} · ${r.shops.length} shops · ${c.rounds} rounds × ${c.training.epochs} local epoch(s) · ` +
      `DP ${c.dp === 'off' ? 'off' : `${c.dp}, target ε = ${c.epsilon} (δ = ${c.delta}, unit: member)`} · ` +
      `${c.transport === 'memory' ? 'in-process transport' : 'HTTP on 127.0.0.1'} · dropout ${pct(c.dropout)} per round · ${c.stragglers.fraction > 0 ? `stragglers ${pct(c.stragglers.fraction)} (${c.stragglers.delayMs} ms late) · ` : ''}${r.malicious.length ? `malicious: ${r.malicious.map(esc).join(', ')} (${c.malicious.attack}${c.malicious.attack === 'scale' ? ` ×${c.malicious.factor}` : ''})` : 'no malicious member'} · threshold ${fmt(c.thresholdFraction, 3)} · seed ${r.seed} · ` +
      `wall time ${fmt(r.timing.wallSeconds, 1)} s · TF.js backend ${esc(r.versions.tfBackend)} · peak RSS ${r.timing.peakRssMb} MB</p>`,
  );
  out.push(
    `<p class="note">Each model is evaluated on every shop's held-out test split: federated (real coordinator and nodes, final round and best round by validation), local-only (the shop alone, same initial weights and total epochs), centralized (all shops' training data pooled: the upper bound) and the model's baselines.</p>`,
  );
  for (const m of r.models) out.push(await modelSection(r, m));
  const cost: { model: string; direction: string; megabytes: number }[] = [];
  const times: { model: string; round: number; seconds: number }[] = [];
  for (const m of r.models) {
    cost.push({
      model: m.kind,
      direction: 'up',
      megabytes: m.cost.bytesUp / 1e6,
    });
    cost.push({
      model: m.kind,
      direction: 'down',
      megabytes: m.cost.bytesDown / 1e6,
    });
    for (const x of m.rounds)
      times.push({ model: m.kind, round: x.round, seconds: x.timing.seconds });
  }
  out.push(
    `<h2>Cost</h2><p class="note">up: members → coordinator (masked inputs, SecAgg messages); down: coordinator → members (weights, relayed messages).</p><div class="charts">${await chart(costChart(cost))}${await chart(roundTimeChart(times))}</div>`,
  );
  return out.join('\n');
}

const ARM_LABEL: Record<string, string> = {
  federated_final: 'federated (final)',
  federated_best: 'federated (best round)',
  federated_tuned: 'federated + local fine-tuning',
  local: 'local-only',
  centralized: 'centralized (pooled)',
};

const AggregationSchema = z.object({
  strategy: StrategyConfigSchema,
  maxWeight: z.number(),
  dp: z.object({ mode: z.string() }),
});

/**
 * How the coordinator combined the members' updates, from the model config it was given: the
 * server optimizer with its parameters, and how members are weighted (DP forces weight 1).
 */
export function aggregationText(modelConfig: unknown): string {
  const c = AggregationSchema.safeParse(modelConfig);
  if (!c.success) return 'not recorded';
  const { kind, ...params } = c.data.strategy;
  const optimizer = `${kind} (${Object.entries(params)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')})`;
  const w = trainingWeightCap(c.data);
  const weights =
    w === 1
      ? 'every shop weighs the same'
      : `each shop weighed by its training examples${w < 1e6 ? `, capped at ${w}` : ''}`;
  return `${optimizer}; ${weights}`;
}

async function modelSection(r: ExperimentResults, m: ModelResult): Promise<string> {
  const main = m.mainMetric;
  const dir = m.higherIsBetter ? 'higher is better' : 'lower is better';
  const rows = Object.entries(m.summary)
    .map(([arm, s]) => {
      const label = ARM_LABEL[arm] ?? arm.replace('baseline:', 'baseline: ');
      const cells = m.metrics.map((k) => `<td>${fmt(s.median[k])}</td><td>${fmt(s.mean[k])}</td>`);
      return `<tr><td>${esc(label)}</td>${cells.join('')}<td>${s.shops}</td></tr>`;
    })
    .join('');
  const head = m.metrics.map((k) => `<th>${esc(k)} median</th><th>${esc(k)} mean</th>`).join('');
  const cmp = m.comparison;
  const pc = cmp.personalized;
  const personalized = pc
    ? ` Federated + local fine-tuning vs local-only: better on ${pc.shopsFederatedBeatsLocal} of ${pc.shopsCompared} shops, median relative gain ${pct(pc.medianGainOverLocal)}; gap to centralized ${pct(pc.gapToCentralized)}.`
    : '';
  const p = m.privacy;
  const noDp = p.reference;
  const qualityCost = noDp
    ? `. <b>Quality cost</b>: median-shop ${esc(main)} ${fmt(m.summary.federated_best?.median[main])} with DP vs ${fmt(noDp.medianMain)} for the same rounds without DP (best round ${noDp.bestRound ?? '—'}): ${pct(noDp.qualityCost)} ${m.higherIsBetter ? 'lower' : 'higher'}`
    : '';
  const privacy =
    p.mode === 'off'
      ? 'no differential privacy (ε = ∞)'
      : `${p.mode} DP${p.mode === 'distributed' ? ' (Skellam noise added by the members before masking)' : ''}, privacy unit <b>${p.unit}</b>: target ε = ${fmt(p.epsilonTarget, 2)}, ε spent (ledger, largest member) = <b>${fmt(p.epsilonSpent, 3)}</b> at δ = ${p.delta}, noise multiplier ${fmt(p.noiseMultiplier, 3)}, clip norm ${p.clipNorm}${qualityCost}`;
  const ref = (arm: string, label: string) => ({
    arm: arm.startsWith('baseline:') ? 'baseline' : arm,
    label,
    value: m.summary[arm]?.mean[main] ?? null,
  });
  const refs = [
    { ...ref('local', 'local-only'), arm: 'local-only' },
    { ...ref('federated_tuned', 'federated + fine-tuning'), arm: 'federated + fine-tuning' },
    ...(noDp
      ? [
          {
            arm: 'federated, no DP',
            label: 'federated, no DP',
            value: summarize(noDp.perShop).mean[main] ?? null,
          },
        ]
      : []),
    ref('centralized', 'centralized'),
    ...Object.keys(m.summary)
      .filter((k) => k.startsWith('baseline:'))
      .map((k) => ref(k, k.slice('baseline:'.length))),
  ];
  const roundSpec = roundChart(
    main,
    m.rounds.map((x) => ({ round: x.round, value: x.mean?.[main] ?? null })),
    refs,
  );
  const shopRows: { shop: string; rank: number; arm: string; value: number }[] = [];
  r.shops.forEach((s, rank) => {
    const sr = m.shops.find((x) => x.storeId === s.storeId);
    const add = (arm: string, v: MetricValues | undefined) => {
      const value = v?.[main];
      if (typeof value === 'number') shopRows.push({ shop: s.storeId, rank, arm, value });
    };
    add('federated', sr?.arms.federated_best);
    add('federated + fine-tuning', sr?.arms.federated_tuned ?? undefined);
    if (noDp && sr) add('federated, no DP', noDp.perShop[m.shops.indexOf(sr)] ?? undefined);
    add('local-only', sr?.arms.local);
    add('centralized', sr?.arms.centralized);
  });
  const failed = m.rounds.filter((x) => x.status !== 'done');
  return `<h2>${esc(m.kind)} — main metric ${esc(main)} (${dir})</h2>
<table><tr><th>arm</th>${head}<th>shops</th></tr>${rows}</table>
<p>Federated (best round by validation: ${m.bestRound ?? '—'}) vs local-only: better on ${cmp.shopsFederatedBeatsLocal} of ${cmp.shopsCompared} shops, median relative gain ${pct(cmp.medianGainOverLocal)}; gap to centralized on the median shop ${pct(cmp.gapToCentralized)}.${personalized}</p>
<p>Aggregation: ${esc(aggregationText(m.modelConfig))}. Privacy: ${privacy}.</p>
<p>Rounds: ${m.cost.roundsDone} done, ${m.cost.roundsFailed} not done${failed.length ? ` (${failed.map((x) => `round ${x.round}: ${esc(x.error ?? x.status)}`).join('; ')})` : ''}; dropped per round: ${m.rounds.map((x) => x.dropped.length).join(', ')}; late per round: ${m.rounds.map((x) => x.stragglers.length).join(', ')}; traffic ${fmt(m.cost.bytesUp / 1e6, 2)} MB up, ${fmt(m.cost.bytesDown / 1e6, 2)} MB down.</p>
<div class="charts">${await chart(roundSpec)}${shopRows.length ? await chart(perShopChart(main, shopRows)) : ''}</div>`;
}

async function sweepSection(s: SweepResults): Promise<string> {
  const rows: { model: string; epsilon: number; label: string; value: number }[] = [];
  for (const run of s.runs) {
    for (const m of run.results.models) {
      const v = m.summary.federated_best?.median[m.mainMetric];
      if (typeof v !== 'number') continue;
      // ε = ∞ (no DP) is drawn at the right end: 10× the largest finite ε of the sweep.
      const eps = m.privacy.epsilonSpent ?? m.privacy.epsilonTarget;
      rows.push({
        model: `${m.kind} (${m.mainMetric})`,
        epsilon: eps ?? Infinity,
        label: run.label,
        value: v,
      });
    }
  }
  const finite = rows.filter((r) => Number.isFinite(r.epsilon)).map((r) => r.epsilon);
  const inf = finite.length ? Math.max(...finite) * 10 : 100;
  for (const r of rows) if (!Number.isFinite(r.epsilon)) r.epsilon = inf;
  const table = s.runs
    .map((run) => {
      const cells = run.results.models
        .map(
          (m) =>
            `${esc(m.kind)} ${esc(m.mainMetric)} ${fmt(m.summary.federated_best?.median[m.mainMetric])} (local ${fmt(m.summary.local?.median[m.mainMetric])}, centralized ${fmt(m.summary.centralized?.median[m.mainMetric])}, ε spent ${fmt(m.privacy.epsilonSpent, 3)})`,
        )
        .join('<br>');
      return `<tr><td>${esc(run.label)}</td><td style="text-align:left">${cells}</td></tr>`;
    })
    .join('');
  const curve =
    s.param === 'epsilon' && rows.length
      ? `<div class="charts">${await chart(privacyUtilityChart(rows))}</div><p class="note">ε = ∞ (no DP) is drawn at ${fmt(inf, 1)}.</p>`
      : '';
  return `<h2>Sweep summary (median shop)</h2><table><tr><th>${esc(s.param)}</th><th>federated (final)</th></tr>${table}</table>${curve}`;
}
