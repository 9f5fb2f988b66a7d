import { z } from 'zod';
import { NodeIdSchema, RoundIdSchema } from '@coopfl/protocol';
import type { SecAggConfig } from '@coopfl/protocol/secagg';
import { makeSecAggConfig } from '@coopfl/protocol/secagg';
import { KpiIdSchema, PeerGroupSchema, PeriodSchema } from '@coopfl/protocol/benchmarks';
import { ModelConfigSchema } from '../services/model-config';

/**
 * What a round was started with, stored in `rounds.config` and sent (signed) to its members as the
 * task. Identity keys are hex so the document is plain JSON.
 */
export const RoundConfigSchema = z.object({
  roundId: RoundIdSchema,
  modelId: z.string(),
  kind: z.enum(['train', 'eval', 'benchmark']),
  baseVersion: z.number().int().min(0),
  secagg: z.object({
    clients: z.array(
      z.object({ id: NodeIdSchema, identityKey: z.string().regex(/^[0-9a-f]{64}$/) }),
    ),
    dim: z.number().int().positive(),
    clipRange: z.number().positive(),
    maxWeight: z.number().positive(),
    neighbors: z.number().int(),
    threshold: z.number().int(),
    minSurvivors: z.number().int(),
    noiseHeadroom: z.number().int().min(0).default(0),
  }),
  /** Distributed DP: the Skellam noise each member adds, and its accounting parameters. */
  noise: z
    .object({
      perClientMu: z.number().positive(),
      skellam: z.object({
        mu: z.number().positive(),
        l2Sensitivity: z.number().positive(),
        l1Sensitivity: z.number().positive(),
      }),
    })
    .optional(),
  model: ModelConfigSchema,
  /** Members in the Poisson-sampling population (they spend privacy whether sampled or not). */
  population: z.array(NodeIdSchema),
  /** For evaluation rounds: the metric names, in vector order. */
  metrics: z.array(z.string()).default([]),
  /**
   * For benchmark rounds (whose `modelId` is the ledger account `benchmarks` and `model` the
   * round's privacy and SecAgg parameters): what each member computes and how it is released.
   */
  benchmark: z
    .object({
      period: PeriodSchema,
      kpis: z.array(KpiIdSchema).min(1),
      bins: z.number().int().min(2).max(64),
      peerGroup: PeerGroupSchema,
      /** Fewest contributors (per KPI) before a figure is released. */
      minContributors: z.number().int().min(1),
      /** Confidence of the published intervals. */
      confidence: z.number().gt(0).lt(1),
    })
    .optional(),
});
export type RoundConfig = z.infer<typeof RoundConfigSchema>;

/** The protocol configuration of a round, rebuilt identically by coordinator and members. */
export function secAggConfigOf(rc: RoundConfig): SecAggConfig {
  return makeSecAggConfig({
    roundId: rc.roundId,
    clients: rc.secagg.clients.map((c) => ({
      id: c.id,
      identityKey: Uint8Array.from(Buffer.from(c.identityKey, 'hex')),
    })),
    dim: rc.secagg.dim,
    clipRange: rc.secagg.clipRange,
    maxWeight: rc.secagg.maxWeight,
    neighbors: rc.secagg.neighbors,
    threshold: rc.secagg.threshold,
    minSurvivors: rc.secagg.minSurvivors,
    noiseHeadroom: rc.secagg.noiseHeadroom,
  });
}
