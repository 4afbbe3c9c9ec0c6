/**
 * Accounts from the command line: `login` / `logout` / `whoami` / `auth:token`, the user's API
 * tokens (`authorizations*`, Heroku's names), `passwd`, and the admin's `users*`. `login` keeps
 * the token it gets in `loginFile()` (mode 0600); every verb then acts as that user, and
 * `git:remote` puts that token in the remote URL, so a push is the user's too.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { defineErrors } from '@slipway/core';
import type { ApiAccount, ApiLogin, ApiNewToken, ApiNewUser, ApiToken, ApiUser } from '@slipway/runtime';
import type { Command } from 'commander';
import {
  ApiClient,
  type ClientOptions,
  clientFor,
  loginFile,
  out,
  platformVerb,
  printJson,
  readLogin,
  resolveCredentials,
  table,
} from '../api-client.js';
import type { CommandModule } from './index.js';

/** Errors of the account verbs. */
export const authCliErrors = defineErrors({
  SLIPWAY_ERR_CLI_NO_API_URL: {
    message: 'no platform API URL to sign in to',
    hint: 'Pass --api-url http://HOST:PORT (or set SLIPWAY_API_URL), or run it where `slipway start` runs.',
    status: 400,
  },
  SLIPWAY_ERR_CLI_NO_INPUT: {
    message: 'no {what} given',
    hint: 'Pass --email, and the password on standard input or in SLIPWAY_PASSWORD.',
    status: 400,
  },
});

type Opts = ClientOptions & { email?: string; apiUrl?: string };

/**
 * Questions on stderr, answers from stdin one line each (not echoed when secret, on a terminal).
 * One reader for all of a verb's questions: piped answers arrive together and must not be lost.
 */
function prompter() {
  const tty = !!process.stdin.isTTY;
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: tty });
  let muted = false;
  const out = rl as unknown as { _writeToOutput: (s: string) => void };
  const write = out._writeToOutput.bind(rl);
  out._writeToOutput = (s: string) => {
    if (!muted) write(s);
  };
  const lines = rl[Symbol.asyncIterator]();
  return {
    async ask(question: string, secret: boolean): Promise<string> {
      process.stderr.write(question);
      muted = secret && tty;
      const next = await lines.next();
      muted = false;
      if (secret && tty) process.stderr.write('\n');
      return next.done ? '' : String(next.value).trim();
    },
    close: () => rl.close(),
  };
}

/** Ask one question. */
async function ask(question: string, secret: boolean): Promise<string> {
  const p = prompter();
  try {
    return await p.ask(question, secret);
  } finally {
    p.close();
  }
}

function apiUrlFor(o: Opts): string {
  if (o.apiUrl) return o.apiUrl;
  if (process.env.SLIPWAY_API_URL) return process.env.SLIPWAY_API_URL;
  try {
    return resolveCredentials(o.dataDir).url;
  } catch {
    throw authCliErrors.SLIPWAY_ERR_CLI_NO_API_URL();
  }
}

/** Account verbs. */
export const authCommands: CommandModule = {
  register(program: Command) {
    program
      .command('login')
      .description('sign in with email and password; later verbs and git pushes act as you')
      .option('--email <email>', 'your email (asked when omitted)')
      .option('--api-url <url>', 'the platform API (default: SLIPWAY_API_URL or the local credentials)')
      .option('--data-dir <dir>', 'platform data dir holding credentials.json (for its API URL)')
      .action(async (o: Opts) => {
        const url = apiUrlFor(o);
        // stdin is read only when something must be asked.
        const p = o.email && process.env.SLIPWAY_PASSWORD ? undefined : prompter();
        let email: string;
        let password: string;
        try {
          email = o.email ?? ((await p?.ask('Email: ', false)) as string);
          password = process.env.SLIPWAY_PASSWORD ?? ((await p?.ask('Password: ', true)) as string);
        } finally {
          p?.close();
        }
        if (!email) throw authCliErrors.SLIPWAY_ERR_CLI_NO_INPUT({ what: 'email' });
        if (!password) throw authCliErrors.SLIPWAY_ERR_CLI_NO_INPUT({ what: 'password' });
        const r = await new ApiClient({ url, token: '' }).json<ApiLogin>('POST', '/login', {
          email,
          password,
          description: `slipway login (${process.env.USER ?? 'cli'})`,
        });
        const file = loginFile();
        await mkdir(dirname(file), { recursive: true, mode: 0o700 });
        await writeFile(
          file,
          `${JSON.stringify({ api_url: url, token: r.access_token.token, email: r.user.email, id: r.id }, null, 2)}\n`,
          { mode: 0o600 },
        );
        out(`Logged in as ${r.user.email}`);
      });
    program
      .command('logout')
      .description('revoke the token of `slipway login` and forget it')
      .action(async () => {
        const login = readLogin();
        if (!login) return out('Not logged in.');
        const c = new ApiClient({ url: login.api_url, token: login.token });
        // The token may already be revoked (a 401 or 404 then); forgetting it locally is what matters.
        if (login.id)
          await c.json('DELETE', `/oauth/authorizations/${encodeURIComponent(login.id)}`).catch(() => {});
        await rm(loginFile(), { force: true });
        out(`Logged out ${login.email}`);
      });
    platformVerb(program.command('whoami').description('the email you act as')).action(
      async (o: ClientOptions) => {
        const me = await clientFor(o).json<ApiAccount>('GET', '/account');
        if (printJson(o, me)) return;
        out(`${me.email}${me.admin ? ' (admin)' : ''}`);
      },
    );
    platformVerb(program.command('auth:token').description('print the API token the CLI uses'), false).action(
      async (o: ClientOptions) => out(clientFor(o).creds.token),
    );
    platformVerb(
      program
        .command('passwd')
        .description('change your password (current and new one on stdin, one a line)'),
      false,
    ).action(async (o: ClientOptions) => {
      const p = prompter();
      let current: string;
      let next: string;
      try {
        current = await p.ask('Current password: ', true);
        next = await p.ask('New password: ', true);
      } finally {
        p.close();
      }
      await clientFor(o).json('PATCH', '/account', { current_password: current, password: next });
      out('Password changed; your browser sessions were signed out.');
    });

    // --- API tokens ---------------------------------------------------------------------------
    platformVerb(
      program.command('authorizations').alias('authorizations:list').description('list your API tokens'),
    ).action(async (o: ClientOptions) => {
      const ts = await clientFor(o).json<ApiToken[]>('GET', '/oauth/authorizations');
      if (printJson(o, ts)) return;
      if (!ts.length) return out('No authorizations.');
      table([
        ['ID', 'DESCRIPTION', 'CREATED', 'LAST USED'],
        ...ts.map((t) => [t.id, t.description, t.created_at, t.last_used_at ?? '-']),
      ]);
    });
    platformVerb(
      program
        .command('authorizations:create')
        .description('create a named API token (shown once)')
        .option('-d, --description <text>', 'what it is for'),
    ).action(async (o: ClientOptions & { description?: string }) => {
      const t = await clientFor(o).json<ApiNewToken>(
        'POST',
        '/oauth/authorizations',
        o.description ? { description: o.description } : {},
      );
      if (printJson(o, t)) return;
      out(`Created authorization ${t.id} (${t.description})`);
      out(`Token: ${t.access_token.token}`);
      out('It is shown only now: keep it somewhere safe.');
    });
    platformVerb(
      program
        .command('authorizations:revoke')
        .argument('<id>', 'authorization id (or its description)')
        .description('revoke an API token; it stops working at once'),
      false,
    ).action(async (id: string, o: ClientOptions) => {
      const t = await clientFor(o).json<ApiToken>(
        'DELETE',
        `/oauth/authorizations/${encodeURIComponent(id)}`,
      );
      out(`Revoked authorization ${t.id} (${t.description})`);
    });

    // --- users (platform admin) ---------------------------------------------------------------
    platformVerb(program.command('users').description('list the platform users (admin)')).action(
      async (o: ClientOptions) => {
        const us = await clientFor(o).json<ApiUser[]>('GET', '/users');
        if (printJson(o, us)) return;
        table([
          ['EMAIL', 'ROLE', 'CREATED'],
          ...us.map((u) => [u.email, u.owner ? 'owner' : u.admin ? 'admin' : 'user', u.created_at]),
        ]);
      },
    );
    platformVerb(
      program
        .command('users:add')
        .argument('<email>', 'the new user')
        .description('add a user (admin); prints a generated password unless SLIPWAY_PASSWORD gives one')
        .option('--admin', 'make the user a platform admin'),
    ).action(async (email: string, o: ClientOptions & { admin?: boolean }) => {
      const u = await clientFor(o).json<ApiNewUser>('POST', '/users', {
        email,
        ...(process.env.SLIPWAY_PASSWORD ? { password: process.env.SLIPWAY_PASSWORD } : {}),
        ...(o.admin ? { admin: true } : {}),
      });
      if (printJson(o, u)) return;
      out(`Added ${u.email}${u.admin ? ' (admin)' : ''}`);
      if (u.password) out(`Password: ${u.password}  (shown once; they change it with \`slipway passwd\`)`);
    });
    platformVerb(
      program
        .command('users:remove')
        .argument('<email>', 'the user')
        .description('remove a user (admin); their tokens and sessions end'),
      false,
    ).action(async (email: string, o: ClientOptions) => {
      await clientFor(o).json('DELETE', `/users/${encodeURIComponent(email)}`);
      out(`Removed ${email}`);
    });
    platformVerb(
      program
        .command('users:password')
        .argument('<email>', 'the user')
        .description("set a user's password (admin), read from SLIPWAY_PASSWORD or stdin"),
      false,
    ).action(async (email: string, o: ClientOptions) => {
      const password = process.env.SLIPWAY_PASSWORD ?? (await ask('New password: ', true));
      await clientFor(o).json('PATCH', `/users/${encodeURIComponent(email)}`, { password });
      out(`Password of ${email} changed; their browser sessions were signed out.`);
    });
  },
};
