/** Every command module of the CLI; each registers its verbs on the program. */
import type { Command } from 'commander';

/** A group of CLI verbs. */
export interface CommandModule {
  register(program: Command): void;
}

/** The command modules, in help order. */
export const commandModules: CommandModule[] = [];
