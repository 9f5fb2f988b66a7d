import type { Command } from 'commander';
import { z } from 'zod';
import { calibrateNoiseMultiplier, epsilonFor } from '@coopfl/protocol/dp';
import type { AccountingEvent, NoiseMultiplier } from '@coopfl/protocol/dp';
import { parseOptions } from '../usage';

/**
 * `coopfl-sim privacy …`: the DP calculators (the same accountants the coordinator's ledger uses).
 * Output is one JSON object on stdout; bad arguments exit with code 2 and name the option.
 */

const common = {
  samplingRate: z.coerce.number().gt(0, 'must be in (0, 1]').lte(1, 'must be in (0, 1]'),
  steps: z.coerce
    .number()
    .int('must be an integer')
    .min(1, 'must be ≥ 1')
    .max(1e9, 'must be ≤ 1e9'),
  delta: z.coerce.number().gt(0, 'must be in (0, 1)').lt(1, 'must be in (0, 1)'),
  accountant: z.enum(['rdp', 'pld'], { error: 'must be rdp or pld' }).default('rdp'),
};

const EpsilonOptions = z
  .object({
    ...common,
    noiseMultiplier: z.coerce.number().positive('must be > 0').max(1e6, 'must be ≤ 1e6'),
    mechanism: z
      .enum(['gaussian', 'skellam'], { error: 'must be gaussian or skellam' })
      .default('gaussian'),
    l2Sensitivity: z.coerce.number().positive('must be > 0').optional(),
    l1Sensitivity: z.coerce.number().positive('must be > 0').optional(),
    dimension: z.coerce.number().int('must be an integer').positive('must be > 0').optional(),
  })
  .superRefine((o, ctx) => {
    if (o.mechanism !== 'skellam') return;
    if (o.l2Sensitivity === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['l2Sensitivity'],
        message: 'is required with --mechanism skellam',
      });
    }
    if (o.l1Sensitivity === undefined && o.dimension === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['dimension'],
        message: 'or --l1-sensitivity is required with --mechanism skellam',
      });
    }
    if (o.accountant === 'pld') {
      ctx.addIssue({
        code: 'custom',
        path: ['accountant'],
        message: 'pld covers the Gaussian mechanism only; use rdp',
      });
    }
  });

const CalibrateOptions = z.object({
  ...common,
  epsilon: z.coerce.number().positive('must be > 0').max(1e4, 'must be ≤ 1e4'),
});

type EpsilonArgs = z.infer<typeof EpsilonOptions>;

/** The accounting event the options describe; Skellam μ comes from σ = z·Δ₂ (variance 2μ = σ²). */
function eventFrom(o: EpsilonArgs): { event: AccountingEvent; extra: Record<string, number> } {
  const base = { samplingRate: o.samplingRate, steps: o.steps };
  if (o.mechanism === 'gaussian') {
    return {
      event: {
        mechanism: 'gaussian',
        noiseMultiplier: o.noiseMultiplier as NoiseMultiplier,
        ...base,
      },
      extra: {},
    };
  }
  const l2 = o.l2Sensitivity!;
  // For integer vectors Δ₁ ≤ min(Δ₂², √d·Δ₂) (Agarwal, Kairouz & Liu 2021).
  const l1 = o.l1Sensitivity ?? Math.min(l2 * l2, Math.sqrt(o.dimension!) * l2);
  const mu = (o.noiseMultiplier * l2) ** 2 / 2;
  return {
    event: { mechanism: 'skellam', skellam: { mu, l2Sensitivity: l2, l1Sensitivity: l1 }, ...base },
    extra: { mu, l2_sensitivity: l2, l1_sensitivity: l1 },
  };
}

/**
 * Registers `privacy epsilon` and `privacy calibrate` on the CLI.
 *
 * @example
 * // pnpm coopfl-sim privacy epsilon --noise-multiplier 1 --sampling-rate 0.01 --steps 1000 --delta 1e-5
 * // {"mechanism":"gaussian","accountant":"rdp","epsilon":2.1014,"order":7.8,"delta":1e-5,…}
 * registerPrivacyCommands(program);
 */
export function registerPrivacyCommands(program: Command): void {
  const privacy = program
    .command('privacy')
    .description('differential-privacy calculators (JSON output)');

  privacy
    .command('epsilon')
    .description('ε of a Poisson-subsampled Gaussian (or Skellam) mechanism run T times, at δ')
    .requiredOption('--noise-multiplier <z>', 'noise std / L2 sensitivity')
    .requiredOption('--sampling-rate <q>', 'Poisson sampling rate in (0, 1]')
    .requiredOption('--steps <t>', 'number of rounds (compositions)')
    .requiredOption('--delta <d>', 'target δ')
    .option('--mechanism <m>', 'gaussian | skellam', 'gaussian')
    .option('--accountant <a>', 'rdp | pld (pld: Gaussian only)', 'rdp')
    .option(
      '--l2-sensitivity <s>',
      'skellam: L2 sensitivity in quantized units (clip norm × scale)',
    )
    .option('--l1-sensitivity <s>', 'skellam: L1 sensitivity (default min(Δ₂², √d·Δ₂))')
    .option('--dimension <d>', 'skellam: model dimension, for the default L1 sensitivity')
    .action((raw: unknown) => {
      const o = parseOptions(EpsilonOptions, raw);
      const { event, extra } = eventFrom(o);
      const r = epsilonFor({ events: [event], delta: o.delta, accountant: o.accountant });
      const out = {
        mechanism: o.mechanism,
        accountant: r.accountant,
        epsilon: r.epsilon,
        order: r.order,
        delta: r.delta,
        noise_multiplier: o.noiseMultiplier,
        sampling_rate: o.samplingRate,
        steps: o.steps,
        ...extra,
      };
      process.stdout.write(`${JSON.stringify(out)}\n`);
    });

  privacy
    .command('calibrate')
    .description('smallest Gaussian noise multiplier reaching a target ε at δ')
    .requiredOption('--epsilon <e>', 'target ε')
    .requiredOption('--sampling-rate <q>', 'Poisson sampling rate in (0, 1]')
    .requiredOption('--steps <t>', 'number of rounds (compositions)')
    .requiredOption('--delta <d>', 'target δ')
    .option('--accountant <a>', 'rdp | pld', 'rdp')
    .action((raw: unknown) => {
      const o = parseOptions(CalibrateOptions, raw);
      const r = calibrateNoiseMultiplier({
        targetEpsilon: o.epsilon,
        samplingRate: o.samplingRate,
        steps: o.steps,
        delta: o.delta,
        accountant: o.accountant,
      });
      const out = {
        noise_multiplier: r.noiseMultiplier,
        epsilon: r.epsilon,
        target_epsilon: o.epsilon,
        accountant: o.accountant,
        delta: o.delta,
        sampling_rate: o.samplingRate,
        steps: o.steps,
      };
      process.stdout.write(`${JSON.stringify(out)}\n`);
    });
}
