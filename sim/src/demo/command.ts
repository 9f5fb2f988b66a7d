import type { Command } from 'commander';
import { z } from 'zod';
import { parseOptions } from '../usage';
import { runDemo } from './demo';

const DemoFlags = z.object({
  shops: z.coerce.number().int().min(2).max(20).default(3),
  rounds: z.coerce.number().int().min(1).optional(),
  port: z.coerce.number().int().min(0).max(65535).default(8787),
  servePort: z.coerce.number().int().min(0).max(65535).default(8788),
  dashboardPort: z.coerce.number().int().min(0).max(65535).default(8789),
  dashboard: z.boolean().default(true),
  seed: z.coerce.number().int().default(1),
  json: z.boolean().default(false),
});

/**
 * Registers `demo` (root script `pnpm demo`): a coordinator, the dashboard, simulated member shops
 * and their nodes, training until Ctrl-C (or `--rounds`). Progress on stderr; with `--json` a summary on
 * stdout at the end.
 */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run a whole cooperative on this machine: coordinator, member nodes, rounds')
    .option('--shops <n>', 'member shops (default 3)')
    .option('--rounds <n>', 'training rounds per model, then stop (default: until Ctrl-C)')
    .option('--port <n>', 'coordinator port on 127.0.0.1 (default 8787, 0 = any)')
    .option('--serve-port <n>', "first shop's prediction API port (default 8788, 0 = any)")
    .option('--dashboard-port <n>', 'dashboard port on 127.0.0.1 (default 8789, 0 = any)')
    .option('--no-dashboard', 'do not start the dashboard')
    .option('--seed <n>', 'seed of the synthetic cooperative (default 1)')
    .option('--json', 'print a JSON summary on stdout when done')
    .action(async (raw: unknown) => {
      const flags = parseOptions(DemoFlags, raw);
      const ctl = new AbortController();
      // Ctrl-C reaches this process more than once (the terminal signals the whole process group
      // and tsx relays it too): repeats within a second are the same Ctrl-C; a later one forces.
      let stoppedAt = 0;
      const stop = () => {
        if (stoppedAt === 0) {
          stoppedAt = Date.now();
          process.stderr.write('\nstopping…\n');
          ctl.abort();
        } else if (Date.now() - stoppedAt > 1_000) {
          process.stderr.write('stopping at once\n');
          process.exit(130);
        }
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      const { dashboard, dashboardPort, ...rest } = flags;
      const summary = await runDemo({
        ...rest,
        dashboardPort: dashboard ? dashboardPort : false,
        signal: ctl.signal,
      });
      if (flags.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    });
}
