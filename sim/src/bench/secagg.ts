import { cryptoReady, seededRandom, randomBelow } from '@coopfl/protocol';
import { defaultKeystreamPath } from '@coopfl/protocol';
import { generateCohort, quantizationBound, runRound } from '@coopfl/protocol/secagg';
import type { ServerStage } from '@coopfl/protocol/secagg';
import { randomInputs, plaintextGap } from '@coopfl/protocol/secagg/testkit';

export interface SecAggBenchOptions {
  clients: number;
  params: number;
  neighbors?: number | undefined;
  dropout: number;
  seed: number;
  onStage?: (stage: ServerStage, index: number) => void;
}

export interface SecAggBenchResult {
  bench: 'secagg';
  clients: number;
  params: number;
  neighbors: number;
  threshold: number;
  dropout: number;
  dropped: number;
  client_ms: { p50: number; p95: number };
  server_ms: number;
  server_stage_ms: Record<string, number>;
  bytes_up_per_client: number;
  raw_update_bytes: number;
  share_bytes_per_client: number;
  bytes_down_per_client: number;
  max_abs_error: number;
  error_bound: number;
  correct: boolean;
  keystream: string;
  node: string;
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const round2 = (x: number) => Math.round(x * 100) / 100;
const median = (xs: number[]) =>
  quantile(
    [...xs].sort((a, b) => a - b),
    0.5,
  );

/**
 * One complete SecAgg round in this process: n clients with random d-dimensional updates, a
 * fraction dropping before their masked input (the costly case for the server: their pairwise
 * masks must be rebuilt). Times each party's own transitions; checks the unmasked sum against
 * the plaintext sum.
 */
export async function benchSecAgg(o: SecAggBenchOptions): Promise<SecAggBenchResult> {
  await cryptoReady();
  const { config, identities } = generateCohort({
    clients: o.clients,
    dim: o.params,
    clipRange: 1,
    ...(o.neighbors !== undefined ? { neighbors: o.neighbors } : {}),
  });
  const rng = seededRandom(o.seed);
  const inputs = randomInputs(rng, o.clients, o.params);
  const drop = new Map<number, ServerStage>();
  const target = Math.round(o.dropout * o.clients);
  while (drop.size < target) drop.set(randomBelow(rng, o.clients), 'masked');
  const report = runRound({
    config,
    identities,
    inputs,
    drop,
    ...(o.onStage ? { onStage: o.onStage } : {}),
  });
  if (report.error || !report.result) throw report.error ?? new Error('round produced no result');
  const gap = plaintextGap(report.result, inputs);
  const bound = quantizationBound(config.quant, report.result.survivors.length);
  // Per-client figures over the clients that took part in the whole round.
  const full = report.result.survivors;
  const clientMs = full.map((i) => report.clientMs.get(i)!).sort((a, b) => a - b);
  const up = full.map((i) => report.bytesUp.get(i)!);
  const down = full.map((i) => report.bytesDown.get(i)!);
  const rawUpdate = 4 * o.params;
  // Masked vector message: header + (d + 1) words + signature; the rest of the upload is keys and shares.
  const maskedBytes = 4 * (o.params + 1) + 4 + 64 + 4 + 2 + 4 + config.roundId.length + 4;
  return {
    bench: 'secagg',
    clients: o.clients,
    params: o.params,
    neighbors: config.neighbors,
    threshold: config.threshold,
    dropout: o.dropout,
    dropped: drop.size,
    client_ms: { p50: round2(quantile(clientMs, 0.5)), p95: round2(quantile(clientMs, 0.95)) },
    server_ms: round2(report.serverMs),
    server_stage_ms: Object.fromEntries(
      Object.entries(report.serverStageMs).map(([k, v]) => [k, round2(v)]),
    ),
    bytes_up_per_client: median(up),
    raw_update_bytes: rawUpdate,
    share_bytes_per_client: median(up) - maskedBytes,
    bytes_down_per_client: median(down),
    max_abs_error: gap.sum,
    error_bound: bound,
    correct: gap.sum <= bound && gap.weight <= bound,
    keystream: defaultKeystreamPath(),
    node: process.version,
  };
}
