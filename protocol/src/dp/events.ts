import { z } from 'zod';
import { NoiseMultiplierSchema } from '../brand';

/**
 * What an accountant composes: a mechanism run `steps` times, each time on a Poisson sample of
 * rate `samplingRate`. A discriminated union on `mechanism`, parsed at every boundary; the ledger
 * adds who/what/when to it ({@link PrivacyEventSchema}).
 */

/**
 * Poisson sampling rate q ∈ (0, 1]: the chance that a given member (or record) takes part. The
 * amplification by subsampling the accountants credit assumes each member is included
 * independently with this probability (cohort size / members).
 *
 * @example
 * SamplingRateSchema.parse(50 / 400); // 0.125
 */
export const SamplingRateSchema = z
  .number()
  .gt(0, 'samplingRate must be > 0')
  .lte(1, 'samplingRate must be ≤ 1');

/**
 * Number of identical compositions (rounds, or local steps for record-level DP).
 *
 * @example
 * StepsSchema.parse(1); // one round
 */
export const StepsSchema = z
  .number()
  .int('steps must be an integer')
  .min(1, 'steps must be ≥ 1')
  .max(1e9, 'steps must be ≤ 1e9');

const positive = (name: string) => z.number().positive(`${name} must be > 0`);

/**
 * The sampled Gaussian mechanism: noise std = noiseMultiplier × L2 sensitivity. With adaptive
 * clipping record the effective multiplier ({@link effectiveNoiseMultiplier}).
 *
 * @example
 * GaussianEventSchema.parse({ mechanism: 'gaussian', noiseMultiplier: 1.1, samplingRate: 0.1, steps: 1 });
 */
export const GaussianEventSchema = z.object({
  mechanism: z.literal('gaussian'),
  noiseMultiplier: NoiseMultiplierSchema,
  samplingRate: SamplingRateSchema,
  steps: StepsSchema,
});

/**
 * The (distributed) Skellam mechanism, in quantized integer units: μ is the total Poisson mean
 * that the threshold number of survivors carries (see {@link rdpSkellam}).
 *
 * @example
 * SkellamEventSchema.parse({
 *   mechanism: 'skellam', skellam: { mu: 5e5, l2Sensitivity: 1000, l1Sensitivity: 1e6 },
 *   samplingRate: 1, steps: 10,
 * });
 */
export const SkellamEventSchema = z.object({
  mechanism: z.literal('skellam'),
  skellam: z.object({
    mu: positive('mu'),
    l2Sensitivity: positive('l2Sensitivity'),
    l1Sensitivity: positive('l1Sensitivity'),
  }),
  samplingRate: SamplingRateSchema,
  steps: StepsSchema,
});

/**
 * Any mechanism the accountants understand.
 *
 * @example
 * const e: AccountingEvent = AccountingEventSchema.parse(JSON.parse(text));
 */
export const AccountingEventSchema = z.discriminatedUnion('mechanism', [
  GaussianEventSchema,
  SkellamEventSchema,
]);
export type GaussianEvent = z.infer<typeof GaussianEventSchema>;
export type SkellamEvent = z.infer<typeof SkellamEventSchema>;
export type AccountingEvent = z.infer<typeof AccountingEventSchema>;
