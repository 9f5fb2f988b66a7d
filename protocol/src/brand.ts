import { z } from 'zod';

/**
 * Branded identifiers and quantities: values that must not be swapped for one another even though
 * they share a runtime type.
 */
export const NodeIdSchema = z
  .string()
  .min(1, 'node id must not be empty')
  .max(128, 'node id is longer than 128 characters')
  .brand<'NodeId'>();
export type NodeId = z.infer<typeof NodeIdSchema>;

export const RoundIdSchema = z
  .string()
  .min(1, 'round id must not be empty')
  .max(128, 'round id is longer than 128 characters')
  .brand<'RoundId'>();
export type RoundId = z.infer<typeof RoundIdSchema>;

/** Brands a string as a NodeId after validating it. */
export const nodeId = (s: string): NodeId => NodeIdSchema.parse(s);
/** Brands a string as a RoundId after validating it. */
export const roundId = (s: string): RoundId => RoundIdSchema.parse(s);

/**
 * Privacy quantities. They are all plain numbers at run time; the brands stop an ε from being passed
 * where a δ or a noise multiplier is expected (a swap that silently voids a privacy guarantee).
 *
 * @example
 * const budget = { epsilon: EpsilonSchema.parse(8), delta: DeltaSchema.parse(1e-6) };
 */
export const EpsilonSchema = z.number().nonnegative('epsilon must be ≥ 0').brand<'Epsilon'>();
export type Epsilon = z.infer<typeof EpsilonSchema>;

/** δ ∈ (0, 1), the failure probability of an (ε, δ) guarantee; typically ≪ 1/(number of members). */
export const DeltaSchema = z
  .number()
  .gt(0, 'delta must be > 0')
  .lt(1, 'delta must be < 1')
  .brand<'Delta'>();
export type Delta = z.infer<typeof DeltaSchema>;

/**
 * The L2 norm C that every client update is clipped to (sensitivity of the sum).
 *
 * @example
 * const c = ClipNormSchema.parse(config.clipNorm); // rejects 0, negatives and NaN
 */
export const ClipNormSchema = z.number().positive('clip norm must be > 0').brand<'ClipNorm'>();
export type ClipNorm = z.infer<typeof ClipNormSchema>;

/**
 * Noise standard deviation divided by the L2 sensitivity (σ / C), the "z" of DP-FedAvg.
 *
 * @example
 * const z = NoiseMultiplierSchema.parse(1.1); // noise std = 1.1 × clip norm
 */
export const NoiseMultiplierSchema = z
  .number()
  .positive('noise multiplier must be > 0')
  .brand<'NoiseMultiplier'>();
export type NoiseMultiplier = z.infer<typeof NoiseMultiplierSchema>;

/** Brands a number as an Epsilon after validating it. @example asEpsilon(8) */
export const asEpsilon = (x: number): Epsilon => EpsilonSchema.parse(x);
/** Brands a number as a Delta after validating it. @example asDelta(1e-6) */
export const asDelta = (x: number): Delta => DeltaSchema.parse(x);
/** Brands a number as a ClipNorm after validating it. @example asClipNorm(1.0) */
export const asClipNorm = (x: number): ClipNorm => ClipNormSchema.parse(x);
/** Brands a number as a NoiseMultiplier after validating it. @example asNoiseMultiplier(1.1) */
export const asNoiseMultiplier = (x: number): NoiseMultiplier => NoiseMultiplierSchema.parse(x);
