import { z } from 'zod';

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)), 'must be a valid date');

const share = z.number().min(0, 'must be in [0, 1]').max(1, 'must be in [0, 1]');

/**
 * Options of the synthetic cooperative. Every field has a default, so `SynthOptions.parse({})` is a
 * 20-shop, 2-year cooperative. The knobs that shape federated-learning difficulty:
 * - `sizeSkew`: shop sizes follow rank^-sizeSkew (0 = equal shops; 1 ≈ largest/median ≈ n/2).
 * - `categoryConcentration`: Dirichlet α of each shop's category mix. Small α (0.1–0.3) gives
 *   specialised shops (non-IID), large α (≥ 10) near-identical ones.
 * - `fraudRate`: each shop draws its base fraud rate uniformly from this [min, max] range.
 *
 * @example
 * const o = SynthOptions.parse({ shops: 5, seed: 7, days: 365 });
 */
export const SynthOptions = z
  .object({
    shops: z
      .number()
      .int('must be an integer')
      .min(1, 'must be ≥ 1')
      .max(1000, 'must be ≤ 1000')
      .default(20),
    seed: z.number().int('must be an integer').min(0, 'must be ≥ 0').default(1),
    days: z
      .number()
      .int('must be an integer')
      .min(7, 'must be ≥ 7')
      .max(3660, 'must be ≤ 3660')
      .default(730),
    startDate: isoDate.default('2024-01-01'),
    catalogSize: z
      .number()
      .int('must be an integer')
      .min(10, 'must be ≥ 10')
      .max(100_000, 'must be ≤ 100000')
      .default(400),
    categories: z
      .number()
      .int('must be an integer')
      .min(1, 'must be ≥ 1')
      .max(200, 'must be ≤ 200')
      .default(12),
    customersPerShop: z
      .number()
      .int('must be an integer')
      .min(5, 'must be ≥ 5')
      .max(1_000_000, 'must be ≤ 1000000')
      .default(800),
    sizeSkew: z.number().min(0, 'must be ≥ 0').max(3, 'must be ≤ 3').default(1),
    categoryConcentration: z
      .number()
      .positive('must be > 0')
      .max(1000, 'must be ≤ 1000')
      .default(0.5),
    fraudRate: z
      .tuple([share, share])
      .refine(([a, b]) => a <= b, 'min must be ≤ max')
      .default([0.005, 0.03]),
    repeatCustomerShare: share.default(0.45),
    /** Mean number of orders of a repeat customer over the period (≥ 2). */
    ordersPerRepeatCustomer: z
      .number()
      .min(2, 'must be ≥ 2')
      .max(1000, 'must be ≤ 1000')
      .default(6),
    /** Dimension of the latent taste vectors of customers and catalog keys. */
    tasteDimensions: z
      .number()
      .int('must be an integer')
      .min(1, 'must be ≥ 1')
      .max(32, 'must be ≤ 32')
      .default(4),
    /**
     * Staggered membership: each shop opens on a day drawn uniformly from the first
     * `openingSpread` share of the period (0 = every shop trades from day one). A young shop has
     * proportionally fewer customers and orders, and may not have lived through a season yet —
     * what a cooperative offers it most.
     */
    openingSpread: z.number().min(0, 'must be in [0, 1)').lt(1, 'must be in [0, 1)').default(0),
    /** Also write daily_sales.csv (dense: every date × catalog key in the shop's assortment). */
    dailySales: z.boolean().default(false),
  })
  .strict();

/** Parsed synthetic-cooperative options (all defaults filled in). */
export type SynthOptions = z.infer<typeof SynthOptions>;
/** Synthetic-cooperative options as a caller writes them (every field optional). */
export type SynthOptionsInput = z.input<typeof SynthOptions>;
