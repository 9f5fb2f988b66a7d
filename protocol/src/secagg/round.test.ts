import { beforeAll, describe, expect, it } from 'vitest';
import { cryptoReady } from '../crypto/sodium';
import { seededRandom } from '../crypto/random';
import type { DropPlan } from './channel';
import { InMemoryChannel, runClient, runRound } from './channel';
import { createClient } from './client';
import { generateCohort } from './cohort';
import { quantizationBound } from './quantize';
import type { ServerStage } from './server';
import { plaintextGap, randomInputs } from './testkit';

beforeAll(cryptoReady);

const DIM = 64;

function setup(
  n: number,
  opts: { neighbors?: number; threshold?: number; maxWeight?: number } = {},
) {
  const cohort = generateCohort({ clients: n, dim: DIM, clipRange: 1, ...opts });
  const inputs = randomInputs(seededRandom(n), n, DIM, 1, opts.maxWeight ?? 1);
  return { ...cohort, inputs };
}

/**
 * `count` clients, preferring `preferred`, such that no client's share set (itself and its
 * neighbours) holds more than `tolerance` of them.
 */
function spreadDropouts(
  graph: readonly (readonly number[])[],
  preferred: number[],
  count: number,
  tolerance: number,
): number[] {
  const chosen: number[] = [];
  const fits = (c: number) =>
    graph.every(
      (nbrs, owner) =>
        [owner, ...nbrs].filter((x) => x === c || chosen.includes(x)).length <= tolerance,
    );
  for (const c of [...preferred, ...graph.keys()]) {
    if (chosen.length === count) break;
    if (!chosen.includes(c) && fits(c)) chosen.push(c);
  }
  expect(chosen).toHaveLength(count);
  return chosen;
}

function dropAt(indices: number[], stage: ServerStage): DropPlan {
  return new Map(indices.map((i) => [i, stage]));
}

describe('a complete round equals the plaintext weighted sum', () => {
  const cases: { n: number; graph: 'complete' | 'sparse'; neighbors?: number }[] = [
    { n: 2, graph: 'complete' },
    { n: 3, graph: 'complete' },
    { n: 10, graph: 'complete' },
    { n: 50, graph: 'complete' },
    // n = 2 and 3 admit only the complete graph (k must be even and below n − 1).
    { n: 10, graph: 'sparse', neighbors: 4 },
    { n: 50, graph: 'sparse', neighbors: 10 },
  ];
  it.each(cases)('n = $n, $graph graph', ({ n, neighbors }) => {
    const { config, identities, inputs } = setup(n, {
      neighbors: neighbors ?? n - 1,
      maxWeight: 5,
    });
    expect(config.neighbors).toBe(neighbors ?? n - 1);
    const report = runRound({ config, identities, inputs });
    expect(report.error).toBeUndefined();
    const result = report.result!;
    expect(result.survivors).toHaveLength(n);
    const gap = plaintextGap(result, inputs);
    const bound = quantizationBound(config.quant, n);
    expect(gap.sum).toBeLessThanOrEqual(bound);
    expect(gap.weight).toBeLessThanOrEqual(bound);
    // and the weighted mean follows
    const w = inputs.reduce((s, x) => s + (x.weight ?? 1), 0);
    const mean0 = inputs.reduce((s, x) => s + (x.weight ?? 1) * x.vector[0]!, 0) / w;
    expect(Math.abs(result.mean[0]! - mean0)).toBeLessThan((2 * bound) / w);
  });
});

describe('dropouts', () => {
  const stages: ServerStage[] = ['advertise', 'shares', 'masked', 'unmask'];

  it.each(stages)(
    'complete graph, n = 10, t = 7: three clients dropping at the %s stage',
    (stage) => {
      const { config, identities, inputs } = setup(10);
      expect(config.threshold).toBe(7);
      const report = runRound({ config, identities, inputs, drop: dropAt([1, 4, 8], stage) });
      expect(report.error).toBeUndefined();
      const result = report.result!;
      // Clients that drop before their masked input are not in the sum; later ones are.
      const inSum = stage === 'unmask' ? 10 : 7;
      expect(result.survivors).toHaveLength(inSum);
      expect(result.dropped).toEqual(stage === 'masked' ? [1, 4, 8] : []);
      expect(plaintextGap(result, inputs).sum).toBeLessThanOrEqual(
        quantizationBound(config.quant, inSum),
      );
    },
  );

  it.each(stages)(
    'complete graph, n = 10, t = 7: four dropping at the %s stage fails cleanly',
    (stage) => {
      const { config, identities, inputs } = setup(10);
      const report = runRound({ config, identities, inputs, drop: dropAt([0, 2, 5, 9], stage) });
      expect(report.result).toBeUndefined();
      expect(report.error?.code).toBe(stage === 'unmask' ? 'TooFewShares' : 'TooFewClients');
      expect(report.error?.message).toMatch(
        stage === 'unmask' ? /6 shares arrived, 7 needed/ : /6 clients answered the \w[\w-]* stage/,
      );
    },
  );

  it('sparse graph, n = 50, k = 10: 10% dropping at each stage still succeeds', () => {
    const { config, identities, inputs } = setup(50, { neighbors: 10 });
    // The graph is drawn from the (fresh) identity keys, so pick five clients no share set loses more
    // than k + 1 − t of: that is the most SecAgg+ promises to survive.
    const tolerance = config.neighbors + 1 - config.threshold;
    const chosen = spreadDropouts(config.graph, [3, 11, 20, 33, 47], 5, tolerance);
    const stagesInOrder: ServerStage[] = ['advertise', 'shares', 'masked', 'masked', 'unmask'];
    const plan = new Map<number, ServerStage>(chosen.map((c, i) => [c, stagesInOrder[i]!]));
    const report = runRound({ config, identities, inputs, drop: plan });
    expect(report.error).toBeUndefined();
    const result = report.result!;
    expect(result.survivors).toHaveLength(46);
    expect(result.dropped).toEqual([chosen[2]!, chosen[3]!].sort((a, b) => a - b));
    expect(plaintextGap(result, inputs).sum).toBeLessThanOrEqual(
      quantizationBound(config.quant, 46),
    );
  });

  it('sparse graph: a neighbourhood losing more than k + 1 − t members fails, naming the client', () => {
    const { config, identities, inputs } = setup(50, { neighbors: 10 });
    // Client 0 and most of its neighbours vanish after sending masked inputs: its seed can't be rebuilt.
    const victims = [0, ...config.graph[0]!.slice(0, 5)];
    const report = runRound({ config, identities, inputs, drop: dropAt(victims, 'unmask') });
    expect(report.error?.code).toBe('TooFewShares');
    expect(report.error?.message).toMatch(
      /self-mask seed of client \d+: \d shares arrived, 8 needed/,
    );
  });
});

describe('the in-memory channel runs the same state machines asynchronously', () => {
  it('agrees with the lock-step driver, with a client that never shows up', async () => {
    const { config, identities, inputs } = setup(8);
    const channel = new InMemoryChannel(config, 200);
    const runs = inputs.map((input, index) =>
      index === 5
        ? Promise.resolve()
        : runClient(channel, createClient({ config, index, identity: identities[index]!, input })),
    );
    await Promise.all(runs);
    const result = await channel.result;
    expect(result.survivors).toEqual([0, 1, 2, 3, 4, 6, 7]);
    expect(plaintextGap(result, inputs).sum).toBeLessThanOrEqual(
      quantizationBound(config.quant, 7),
    );
  });
});
