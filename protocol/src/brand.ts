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
