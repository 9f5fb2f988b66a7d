import type { Command } from 'commander';
import { z } from 'zod';
import { cryptoReady } from '@coopfl/protocol';
import { registerConvertCommands } from '../data/command';
import { progressLine } from '../progress';
import { parseOptions } from '../usage';
import {
  SynthOptions,
  generateCooperative,
  summarizeCooperative,
  writeCooperative,
} from '@coopfl/node/synth';

const num = z.coerce.number({ error: 'must be a number' });
const int = num.int('must be an integer');

/** CLI flags: strings from commander, coerced, then checked again by {@link SynthOptions}. */
const SynthFlags = z.object({
  out: z.string().min(1, 'is required'),
  shops: int.optional(),
  seed: int.optional(),
  days: int.optional(),
  startDate: z.string().optional(),
  catalogSize: int.optional(),
  categories: int.optional(),
  customersPerShop: int.optional(),
  sizeSkew: num.optional(),
  categoryConcentration: num.optional(),
  fraudRate: z
    .string()
    .regex(/^[0-9.eE-]+,[0-9.eE-]+$/, 'must be MIN,MAX')
    .transform((s) => s.split(',').map(Number) as [number, number])
    .optional(),
  repeatCustomerShare: num.optional(),
  ordersPerRepeatCustomer: num.optional(),
  tasteDimensions: int.optional(),
  dailySales: z.boolean().optional(),
});

/**
 * Registers `data synth`: writes a seeded synthetic cooperative in the canonical CSV layout.
 * Progress goes to stderr; stdout gets one JSON summary (rows per file, shops with their sizes).
 *
 * @example
 * // pnpm coopfl-sim data synth --out ./data/coop --shops 20 --seed 7
 * // {"out":"./data/coop","seed":7,…,"rows":{"products.csv":1913,…},"shops":[{"store_id":"shop-01",…}]}
 * registerDataCommands(program);
 */
export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('synthetic and imported shop data');
  registerConvertCommands(data);
  data
    .command('synth')
    .description('generate a synthetic cooperative as canonical CSV files (one directory)')
    .requiredOption('--out <dir>', 'output directory (created; same-named files are overwritten)')
    .option('--shops <n>', 'number of shops (default 20)')
    .option('--seed <s>', 'seed; the same seed gives byte-identical files (default 1)')
    .option('--days <d>', 'length of the period in days (default 730)')
    .option('--start-date <date>', 'first day, YYYY-MM-DD (default 2024-01-01)')
    .option('--catalog-size <n>', 'catalog keys shared by the cooperative (default 400)')
    .option('--categories <n>', 'product categories (default 12)')
    .option('--customers-per-shop <n>', 'median customers per shop (default 800)')
    .option('--size-skew <x>', 'shop sizes ∝ rank^-x (0 = equal; default 1)')
    .option('--category-concentration <a>', 'Dirichlet α of shop category mixes (default 0.5)')
    .option('--fraud-rate <min,max>', 'range of shop fraud base rates (default 0.005,0.03)')
    .option('--repeat-customer-share <p>', 'share of customers ordering ≥ 2 times (default 0.45)')
    .option('--orders-per-repeat-customer <m>', 'mean orders of a repeat customer (default 6)')
    .option('--taste-dimensions <d>', 'latent taste dimensions (default 4)')
    .option('--daily-sales', 'also write daily_sales.csv (dense, large)')
    .action(async (raw: unknown) => {
      const { out, ...flags } = parseOptions(SynthFlags, raw);
      const options = parseOptions(SynthOptions, flags);
      await cryptoReady();
      const started = performance.now();
      const tables = generateCooperative(options, (done, total) =>
        progressLine('synth: shops', done, total),
      );
      const generated = performance.now();
      const rows = await writeCooperative(out, tables);
      if (process.stderr.isTTY) process.stderr.write('\n');
      const summary = summarizeCooperative(tables);
      const result = {
        out,
        seed: options.seed,
        days: options.days,
        start_date: options.startDate,
        seconds: {
          generate: Math.round(generated - started) / 1000,
          write: Math.round(performance.now() - generated) / 1000,
        },
        rows,
        shops: summary.shops,
      };
      process.stdout.write(`${JSON.stringify(result)}\n`);
    });
}
