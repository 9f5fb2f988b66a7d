#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerBenchCommands } from './commands/bench';
import { registerPrivacyCommands } from './commands/privacy';
import { registerDemoCommand } from './demo/command';
import { registerRunCommand } from './experiment/command';
import { registerDataCommands } from './synth/command';
import { UsageError } from './usage';

/**
 * `coopfl-sim`: simulated cooperatives, privacy calculators and benchmarks.
 * Bad arguments print a message naming the option and exit with code 2.
 */
const program = new Command('coopfl-sim')
  .description('CoopFL simulator: experiments, privacy accounting and benchmarks')
  .exitOverride()
  .showHelpAfterError();

registerBenchCommands(program);
registerPrivacyCommands(program);
registerDataCommands(program);
registerRunCommand(program);
registerDemoCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exit(err.exitCode === 0 ? 0 : 2);
  }
  if (err instanceof UsageError) {
    process.stderr.write(`coopfl-sim: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}
