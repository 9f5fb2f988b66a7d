import { z } from 'zod';
import { NodeIdSchema, RoundIdSchema } from '../brand';
import type { NodeId, RoundId } from '../brand';
import { ProtocolError } from '../errors';
import { hashCommit } from '../crypto/primitives';
import { defaultNeighbours, defaultThreshold, neighbourGraph } from './graph';
import type { QuantizationParams } from './quantize';
import { quantizationScale } from './quantize';

const bytes32 = z
  .custom<Uint8Array>((v) => v instanceof Uint8Array, 'must be a Uint8Array')
  .refine((b) => b.length === 32, 'must be 32 bytes');

/**
 * What the coordinator publishes for one secure-aggregation round; every client receives the same
 * and derives the same graph from it. Public options are one object; defaults follow
 * {@link defaultNeighbours} and {@link defaultThreshold}.
 */
export const SecAggConfigInputSchema = z.object({
  roundId: RoundIdSchema,
  /** The cohort, in a fixed order: client i gets Shamir x-coordinate i + 1. */
  clients: z
    .array(z.object({ id: NodeIdSchema, identityKey: bytes32 }))
    .min(2, 'a round needs at least 2 clients')
    .max(65536, 'a round has at most 65,536 clients'),
  /** Length of each client's input vector. */
  dim: z
    .number()
    .int()
    .min(1)
    .max(2 ** 28),
  /** Bound on every input coordinate, |x_i| ≤ clipRange (an L2 clip C implies clipRange = C). */
  clipRange: z.number().positive().finite(),
  /** Bound on a client's weight (1 for an unweighted mean). */
  maxWeight: z.number().positive().finite().default(1),
  /** Neighbours per client: n − 1 for SecAgg, an even k = O(log n) for SecAgg+. */
  neighbors: z.number().int().optional(),
  /** Shares needed to reconstruct a secret: more than half of k + 1, at most k + 1. */
  threshold: z.number().int().optional(),
  /** Fewest clients whose inputs may be released as a sum (default: the threshold). */
  minSurvivors: z.number().int().optional(),
  /** Integer headroom reserved for distributed DP noise (see quantize.ts). */
  noiseHeadroom: z.number().int().min(0).default(0),
});
export type SecAggConfigInput = z.input<typeof SecAggConfigInputSchema>;

export interface SecAggConfig {
  readonly roundId: RoundId;
  readonly ids: readonly NodeId[];
  readonly identityKeys: readonly Uint8Array[];
  readonly indexOf: ReadonlyMap<string, number>;
  readonly dim: number;
  readonly neighbors: number;
  readonly threshold: number;
  readonly minSurvivors: number;
  readonly quant: QuantizationParams;
  /** graph[i]: sorted indices of client i's neighbours. */
  readonly graph: readonly (readonly number[])[];
  /** A digest of the whole configuration, bound into every signature. */
  readonly digest: Uint8Array;
}

const encoder = new TextEncoder();

/** Validates a round configuration and derives the neighbour graph; throws InvalidConfig. */
export function makeSecAggConfig(input: SecAggConfigInput): SecAggConfig {
  const parsed = SecAggConfigInputSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ProtocolError(
      'InvalidConfig',
      `${issue?.path.join('.') || 'config'}: ${issue?.message}`,
    );
  }
  const c = parsed.data;
  const n = c.clients.length;
  const ids = c.clients.map((x) => x.id);
  const indexOf = new Map(ids.map((id, i) => [id as string, i]));
  if (indexOf.size !== n) throw new ProtocolError('InvalidConfig', 'client ids must be unique');
  const k = c.neighbors ?? defaultNeighbours(n);
  const t = c.threshold ?? defaultThreshold(k);
  if (t <= (k + 1) / 2 || t > k + 1) {
    throw new ProtocolError(
      'InvalidConfig',
      `threshold must be more than half of the ${k + 1}-client share set and at most ${k + 1}, got ${t}`,
    );
  }
  const minSurvivors = c.minSurvivors ?? t;
  if (minSurvivors < 1 || minSurvivors > n) {
    throw new ProtocolError(
      'InvalidConfig',
      `minSurvivors must be in [1, ${n}], got ${minSurvivors}`,
    );
  }
  const quant: QuantizationParams = {
    clients: n,
    clipRange: c.clipRange,
    maxWeight: c.maxWeight,
    noiseHeadroom: c.noiseHeadroom,
  };
  quantizationScale(quant); // throws when no scale fits
  const digest = configDigest(
    c.roundId,
    c.clients,
    [c.dim, k, t, minSurvivors, c.noiseHeadroom],
    [c.clipRange, c.maxWeight],
  );
  const graph = neighbourGraph(n, k, digest);
  return {
    roundId: c.roundId,
    ids,
    identityKeys: c.clients.map((x) => x.identityKey),
    indexOf,
    dim: c.dim,
    neighbors: k,
    threshold: t,
    minSurvivors,
    quant,
    graph,
    digest,
  };
}

function configDigest(
  round: string,
  clients: readonly { id: string; identityKey: Uint8Array }[],
  ints: number[],
  reals: number[],
): Uint8Array {
  const parts: Uint8Array[] = [encoder.encode(round)];
  for (const cl of clients) parts.push(encoder.encode(cl.id), cl.identityKey);
  const nums = new DataView(new ArrayBuffer(8 * (ints.length + reals.length)));
  [...ints, ...reals].forEach((v, i) => nums.setFloat64(8 * i, v, true));
  parts.push(new Uint8Array(nums.buffer));
  // Length-prefix every part so that no two configurations serialise alike.
  const total = parts.reduce((s, p) => s + 4 + p.length, 0);
  const buf = new Uint8Array(total);
  const view = new DataView(buf.buffer);
  let off = 0;
  for (const p of parts) {
    view.setUint32(off, p.length, true);
    buf.set(p, off + 4);
    off += 4 + p.length;
  }
  return hashCommit('coopfl/secagg/v1/config', buf);
}

/** Client i's share set: itself and its neighbours, the holders of its secret shares. */
export function shareSet(config: SecAggConfig, i: number): number[] {
  return [i, ...config.graph[i]!].sort((a, b) => a - b);
}
