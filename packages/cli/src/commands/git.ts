/**
 * `git:remote -a APP [-r NAME]`: point a git remote of the current repository at the app's
 * smart-HTTP endpoint, so `git push slipway main` deploys. The API token rides in the remote
 * URL as the HTTP Basic password (git keeps it in .git/config, readable by you only).
 */
import { execFile } from 'node:child_process';
import { defineErrors } from '@slipway/core';
import type { Command } from 'commander';
import {
  type ApiClient,
  type ClientOptions,
  clientFor,
  out,
  platformVerb,
  printJson,
  requireApp,
} from '../api-client.js';
import type { CommandModule } from './index.js';

/** Errors of the git verbs. */
export const gitCliErrors = defineErrors({
  SLIPWAY_ERR_CLI_GIT: {
    message: 'git {args} failed: {detail}',
    hint: 'Run this inside a git repository (`git init`), with git installed.',
  },
});

/** Run git; on failure a coded error, in which `hide` masks what must not be shown (a token). */
const git = (args: string[], hide: (s: string) => string = (s) => s) =>
  new Promise<string>((resolve, reject) =>
    execFile('git', args, (e, stdout, stderr) =>
      e
        ? reject(
            gitCliErrors.SLIPWAY_ERR_CLI_GIT({
              args: hide(args.join(' ')),
              detail: hide(stderr.trim() || e.message),
            }),
          )
        : resolve(stdout.trim()),
    ),
  );

/** The push URL of an app (token as the Basic password). */
export function gitUrl(apiUrl: string, token: string, app: string): string {
  const u = new URL(`/${encodeURIComponent(app)}.git`, apiUrl);
  u.username = 'git';
  u.password = token;
  return u.toString();
}

/**
 * Point git remote `remote` of the repository here at `app` (added, or its URL set); returns
 * the URL with the token hidden, as it is in git's errors too (they quote the command line).
 */
export async function setGitRemote(client: ApiClient, app: string, remote: string): Promise<string> {
  const { url: apiUrl, token } = client.creds;
  const url = gitUrl(apiUrl, token, app);
  const shown = gitUrl(apiUrl, '***', app);
  const hide = (s: string) => (token ? s.split(url).join(shown).split(token).join('***') : s);
  const exists = (await git(['remote'])).split('\n').includes(remote);
  await git(['remote', exists ? 'set-url' : 'add', remote, url], hide);
  return shown;
}

/** git verbs. */
export const gitCommands: CommandModule = {
  register(program: Command) {
    platformVerb(
      program
        .command('git:remote')
        .description('add (or update) a git remote that deploys the app on push')
        .option('-a, --app <app>', 'app name')
        .option('-r, --remote <name>', 'remote name', 'slipway'),
    ).action(async (o: ClientOptions & { remote: string }) => {
      const app = requireApp(o);
      const client = clientFor(o);
      await client.json('GET', `/apps/${encodeURIComponent(app)}`);
      const shown = await setGitRemote(client, app, o.remote);
      if (printJson(o, { remote: o.remote, url: shown, app })) return;
      out(`set git remote ${o.remote} to ${shown}`);
    });
  },
};
