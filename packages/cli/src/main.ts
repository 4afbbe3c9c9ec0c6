/**
 * Command-line entry: builds the commander program from the command modules and turns
 * SlipwayErrors into a message, its hint and a non-zero exit code.
 */
import { readFileSync } from 'node:fs';
import { isSlipwayError } from '@slipway/core';
import { Command, CommanderError } from 'commander';
import { commandModules } from './commands/index.js';
import { groupCommands } from './help-groups.js';

/** This CLI's own version (npm_package_version is that of whichever package's script runs it). */
const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

/** Build the program (exported for tests and for embedding). */
export function createProgram(): Command {
  const program = new Command('slipway')
    .description('Slipway: a self-hostable Heroku')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const mod of commandModules) mod.register(program);
  groupCommands(program);
  return program;
}

/** Run the CLI; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (isSlipwayError(err)) {
      process.stderr.write(` !     ${err.describe().replace(/\n/g, '\n !     ')}\n !     (${err.code})\n`);
      return 1;
    }
    // Anything else still gets a message, not a stack trace (SLIPWAY_DEBUG=1 shows it). A
    // connection the platform cut is a coded error of the API client, not a case of this one.
    const e = err as Error | undefined;
    process.stderr.write(` !     unexpected error: ${e?.message ?? String(err)}\n`);
    if (process.env.SLIPWAY_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
    return 1;
  }
}
