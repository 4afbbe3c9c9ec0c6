/** Every command module of the CLI; each registers its verbs on the program. */
import type { Command } from 'commander';
import { accessCommands } from './access.js';
import { addonCommands } from './addon.js';
import { addonProviderCommands } from './addon-providers.js';
import { addonsCommands } from './addons.js';
import { appsCommands } from './apps.js';
import { authCommands } from './auth.js';
import { buildCommands } from './build.js';
import { buildpacksCommands } from './buildpacks.js';
import { certsCommands } from './certs.js';
import { completionCommands } from './completion.js';
import { configCommands } from './config.js';
import { deployCommands } from './deploy.js';
import { domainsCommands } from './domains.js';
import { drainsCommands } from './drains.js';
import { gitCommands } from './git.js';
import { logsCommands } from './logs.js';
import { mailCommands } from './mail.js';
import { newCommands } from './new.js';
import { nodesCommands } from './nodes.js';
import { pgCommands } from './pg.js';
import { platformCommands } from './platform.js';
import { psCommands } from './ps.js';
import { redisCommands } from './redis.js';
import { releasesCommands } from './releases.js';
import { runCommands } from './run.js';
import { stackCommands } from './stack.js';

/** A group of CLI verbs. */
export interface CommandModule {
  register(program: Command): void;
}

/** The command modules (help groups them by topic; see `main.ts`). */
export const commandModules: CommandModule[] = [
  platformCommands,
  stackCommands,
  nodesCommands,
  authCommands,
  appsCommands,
  accessCommands,
  deployCommands,
  gitCommands,
  buildpacksCommands,
  buildCommands,
  newCommands,
  psCommands,
  runCommands,
  domainsCommands,
  certsCommands,
  drainsCommands,
  configCommands,
  releasesCommands,
  logsCommands,
  addonCommands,
  addonsCommands,
  addonProviderCommands,
  pgCommands,
  redisCommands,
  mailCommands,
  completionCommands,
];
