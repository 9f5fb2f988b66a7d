import { ProtocolError } from '../errors';
import { ChaChaRandom, randomBelow } from '../crypto/random';

/**
 * The neighbour graph of a round: who shares secrets and pairwise masks with whom.
 *
 * - complete (SecAgg, Bonawitz et al. 2017): every client with every other; k = n − 1.
 * - sparse (SecAgg+, Bell et al. 2020 §3): a random Harary graph H(k, n): clients are placed on a
 *   ring in a random order drawn from `seed`, and each is linked to the k/2 nearest on either side.
 *   With k = O(log n) the client's work and the server's unmasking grow with log n instead of n.
 *
 * The seed is derived from the round's public configuration, so every client recomputes and checks
 * the graph the server uses. Returns, for each client index, its neighbours' indices (sorted).
 */
export function neighbourGraph(n: number, k: number, seed: Uint8Array): number[][] {
  if (!Number.isInteger(n) || n < 2) {
    throw new ProtocolError('InvalidConfig', `a round needs at least 2 clients, got ${n}`);
  }
  if (k === n - 1) {
    return Array.from({ length: n }, (_, i) =>
      Array.from({ length: n - 1 }, (_, j) => (j < i ? j : j + 1)),
    );
  }
  if (!Number.isInteger(k) || k < 2 || k > n - 1 || k % 2 !== 0) {
    throw new ProtocolError(
      'InvalidConfig',
      `neighbours must be an even number in [2, ${n - 2}] or ${n - 1} (complete), got ${k}`,
    );
  }
  // Fisher–Yates shuffle driven by the ChaCha20 stream of the seed.
  const rng = new ChaChaRandom(seed);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = randomBelow(rng, i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const half = k / 2;
  const graph: number[][] = Array.from({ length: n }, () => []);
  for (let pos = 0; pos < n; pos++) {
    const me = order[pos]!;
    for (let off = 1; off <= half; off++) {
      graph[me]!.push(order[(pos + off) % n]!, order[(pos - off + n) % n]!);
    }
  }
  for (const list of graph) list.sort((a, b) => a - b);
  return graph;
}

/**
 * Default number of neighbours: complete up to 32 clients, else the even number nearest
 * 3·log2(n) (about 20 for n = 100 and 30 for n = 1,000), in line with Bell et al.'s k = O(log n)
 * for a dropout rate and corrupted fraction of a few percent.
 */
export function defaultNeighbours(n: number): number {
  if (n <= 32) return n - 1;
  const k = 2 * Math.round((3 * Math.log2(n)) / 2);
  return Math.min(k, n - 2 - ((n - 2) % 2));
}

/**
 * Default threshold t for a share set of size k + 1 (the neighbours plus the client itself):
 * two thirds, rounded up. t must exceed half the share set, so that the shares honest clients
 * reveal can never give the server both a client's self-mask seed and its mask key; above that,
 * a larger t tolerates fewer dropouts.
 */
export function defaultThreshold(k: number): number {
  return Math.max(Math.floor((k + 1) / 2) + 1, Math.ceil((2 * (k + 1)) / 3));
}
