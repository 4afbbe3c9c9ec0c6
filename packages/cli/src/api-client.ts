/**
 * The CLI's client of the platform API. Credentials come from `SLIPWAY_API_URL` +
 * `SLIPWAY_TOKEN`, else from `<data dir>/credentials.json` written by `slipway start` (see
 * `credentialDirs`). API errors become SlipwayErrors with the
 * server's code and hint, so the CLI prints them like local ones.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { type ApiErrorBody, defineErrors, SlipwayError } from '@slipway/core';
import type { Command } from 'commander';
import { withProgress } from './progress.js';

/** Errors of talking to the platform. */
export const clientErrors = defineErrors({
  SLIPWAY_ERR_CLI_NO_CREDENTIALS: {
    message: 'no platform credentials: SLIPWAY_API_URL/SLIPWAY_TOKEN are unset and there is no {file}',
    hint: 'Run the CLI where `slipway start` runs (or below it: it writes .slipway/credentials.json there), pass --data-dir DIR, or set SLIPWAY_API_URL and SLIPWAY_TOKEN.',
    status: 401,
  },
  SLIPWAY_ERR_CLI_UNREACHABLE: {
    message: 'cannot reach the platform API at {url}: {detail}',
    hint: 'Is `slipway start` running? Check SLIPWAY_API_URL or the data dir.',
  },
  SLIPWAY_ERR_CLI_CONNECTION_LOST: {
    message: 'the connection to the platform at {url} was cut: {detail}',
    hint: 'The platform stopped or crashed meanwhile. Once it runs again, `slipway releases -a APP` shows what happened: an interrupted release is marked failed and the previous one keeps serving.',
  },
  SLIPWAY_ERR_CLI_NO_APP: {
    message: 'no app given',
    hint: 'Pass -a APP, set SLIPWAY_APP, or run inside a git repository whose `slipway` remote points at the app (`slipway git:remote -a APP`).',
    status: 400,
  },
});

/**
 * Data dir `slipway start` uses: `$SLIPWAY_DATA_DIR`, else `./.slipway` under the current
 * directory (the repository's `npm start` keeps it there; it is git-ignored).
 */
export function defaultDataDir(): string {
  return resolve(process.env.SLIPWAY_DATA_DIR || '.slipway');
}

/**
 * Where the CLI looks for credentials.json: `--data-dir`, `$SLIPWAY_DATA_DIR`, the nearest
 * `.slipway` in the current directory or a parent (so verbs work from inside an app dir of the
 * repository), then `~/.slipway`.
 */
export function credentialDirs(dataDir?: string): string[] {
  if (dataDir) return [resolve(dataDir)];
  if (process.env.SLIPWAY_DATA_DIR) return [resolve(process.env.SLIPWAY_DATA_DIR)];
  const dirs: string[] = [];
  for (let d = process.cwd(); ; d = dirname(d)) {
    if (existsSync(join(d, '.slipway', 'credentials.json'))) {
      dirs.push(join(d, '.slipway'));
      break;
    }
    if (dirname(d) === d) break;
  }
  dirs.push(join(homedir(), '.slipway'));
  return dirs;
}

/** Where and how to reach the API. */
export interface Credentials {
  url: string;
  token: string;
}

/** Find credentials (env first, then the first credentials.json of `credentialDirs`). */
export function resolveCredentials(dataDir?: string): Credentials {
  const url = process.env.SLIPWAY_API_URL;
  const token = process.env.SLIPWAY_TOKEN;
  if (url && token && !dataDir) return { url, token };
  // `slipway login` acts as that user until `slipway logout`, over the platform token.
  if (!dataDir) {
    const login = readLogin();
    if (login) return { url: login.api_url, token: login.token };
  }
  const dirs = credentialDirs(dataDir);
  for (const dir of dirs) {
    try {
      const c = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')) as {
        api_url?: string;
        token?: string;
      };
      if (c.api_url && c.token) return { url: c.api_url, token: c.token };
    } catch {
      // try the next place
    }
  }
  throw clientErrors.SLIPWAY_ERR_CLI_NO_CREDENTIALS({
    file: dirs.map((d) => join(d, 'credentials.json')).join(' or '),
  });
}

/** Where `slipway login` keeps the user's token: `$SLIPWAY_LOGIN_FILE`, else ~/.slipway/login.json. */
export function loginFile(): string {
  return process.env.SLIPWAY_LOGIN_FILE || join(homedir(), '.slipway', 'login.json');
}

/** The saved login, if any. */
export function readLogin(): { api_url: string; token: string; email: string; id?: string } | undefined {
  try {
    const c = JSON.parse(readFileSync(loginFile(), 'utf8'));
    return c.api_url && c.token ? c : undefined;
  } catch {
    return undefined;
  }
}

/** A thin HTTP client of the API. */
export class ApiClient {
  constructor(readonly creds: Credentials) {}

  /** Client for the credentials found from options/env. */
  static fromEnv(dataDir?: string): ApiClient {
    return new ApiClient(resolveCredentials(dataDir));
  }

  /** Raw request; resolves with the response once headers arrive. */
  raw(
    method: string,
    path: string,
    body?: Buffer | string | Readable,
    headers: Record<string, string> = {},
  ): Promise<IncomingMessage> {
    const url = new URL(path, this.creds.url);
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        url,
        {
          method,
          headers: { authorization: `Bearer ${this.creds.token}`, accept: 'application/json', ...headers },
        },
        resolve,
      );
      req.on('error', (e) =>
        reject(
          clientErrors.SLIPWAY_ERR_CLI_UNREACHABLE({ url: this.creds.url, detail: e.message }, { cause: e }),
        ),
      );
      if (body === undefined) req.end();
      else if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
      else body.pipe(req);
    });
  }

  /**
   * JSON request; throws the server's coded error on a non-2xx answer. A wait over a second
   * shows `progress` (default: the request) with a spinner when stderr is a terminal.
   */
  json<T = unknown>(method: string, path: string, body?: unknown, progress?: string): Promise<T> {
    return withProgress(progress ?? `${method} ${path.split('?')[0]}`, async () => {
      const res = await this.raw(
        method,
        path,
        body === undefined ? undefined : JSON.stringify(body),
        body === undefined ? {} : { 'content-type': 'application/json' },
      );
      return this.answer<T>(res);
    });
  }

  /**
   * Read a JSON answer: non-2xx becomes a SlipwayError carrying the server's code and hint; a
   * connection cut while the body arrives becomes SLIPWAY_ERR_CLI_CONNECTION_LOST.
   */
  async answer<T>(res: IncomingMessage): Promise<T> {
    const chunks: Buffer[] = [];
    try {
      for await (const c of res) chunks.push(c as Buffer);
    } catch (e) {
      throw this.lost(e as Error);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      body = { message: text };
    }
    const status = res.statusCode ?? 500;
    if (status >= 300) {
      // The API's one error shape (`{ id, message, code?, hint? }`, see runtime http-app.ts).
      const e = (body ?? {}) as Partial<ApiErrorBody>;
      const code = e.code ?? `SLIPWAY_ERR_API_${String(e.id ?? status).toUpperCase()}`;
      throw new SlipwayError(code, e.message ?? `HTTP ${status}`, {
        status,
        ...(e.hint ? { hint: e.hint } : {}),
      });
    }
    return body as T;
  }

  /** Stream a text resource line by line until it ends (or `signal` aborts). */
  async lines(path: string, onLine: (line: string) => void, signal?: AbortSignal): Promise<void> {
    const res = await this.raw('GET', path, undefined, { accept: 'text/plain' });
    if ((res.statusCode ?? 500) >= 300) await this.answer(res);
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      signal?.addEventListener('abort', () => {
        res.destroy();
        resolve();
      });
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        let i = buf.indexOf('\n');
        while (i >= 0) {
          onLine(buf.slice(0, i));
          buf = buf.slice(i + 1);
          i = buf.indexOf('\n');
        }
      });
      res.on('end', () => {
        if (buf) onLine(buf);
        resolve();
      });
      res.on('error', (e) => reject(this.lost(e)));
    });
  }

  /** The coded error of a connection the platform cut mid-answer (it stopped or crashed). */
  private lost(e: Error): SlipwayError {
    return clientErrors.SLIPWAY_ERR_CLI_CONNECTION_LOST(
      { url: this.creds.url, detail: e.message },
      { cause: e },
    );
  }
}

/**
 * The options of a verb that talks to the platform: `--json` (left out when the verb prints no
 * data; a string is its own help text) and `--data-dir`.
 */
export function platformVerb(c: Command, json: boolean | string = true): Command {
  if (json) c.option('--json', json === true ? 'print JSON' : json);
  return c.option('--data-dir <dir>', 'platform data dir holding credentials.json');
}

/** The options of a verb about one app: `-a/--app`, `-r/--remote`, then `platformVerb`'s. */
export function appVerb(c: Command, json: boolean | string = true): Command {
  return platformVerb(
    c
      .option('-a, --app <app>', 'app name (default: the app of the slipway git remote, if any)')
      .option('-r, --remote <remote>', 'the app of this git remote'),
    json,
  );
}

/** The options of a verb about one add-on of an app (`pg:*`, `redis:*`, `mail`): `appVerb` plus `--addon`. */
export function addonVerb(c: Command, service: string, json = true): Command {
  return appVerb(c, json).option('--addon <name>', `which ${service} attachment (default the first)`);
}

/** The app a `slipway` git remote URL (`…/<app>.git`) deploys to, if it is one. */
export function appFromRemoteUrl(url: string): string | undefined {
  const m = /\/([a-z][a-z0-9-]{1,29})\.git\/?$/.exec(url.trim());
  return m?.[1];
}

/** The app named by git remote `remote` of the repository around the current directory. */
function appFromGitRemote(remote: string): string | undefined {
  try {
    const url = execFileSync('git', ['remote', 'get-url', remote], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return appFromRemoteUrl(url);
  } catch {
    return undefined; // not a repository, no such remote, or no git
  }
}

/**
 * The app from `-a`, else `-r REMOTE`, else `SLIPWAY_APP`, else (as heroku does with its `heroku`
 * remote) the app the current git repository's `slipway` remote deploys to; or a coded error.
 */
export function requireApp(opts: { app?: string; remote?: string }): string {
  const a =
    opts.app ??
    (opts.remote ? appFromGitRemote(opts.remote) : undefined) ??
    process.env.SLIPWAY_APP ??
    appFromGitRemote('slipway');
  if (!a) throw clientErrors.SLIPWAY_ERR_CLI_NO_APP();
  opts.app = a;
  return a;
}

/** Print `data` as JSON when `--json` was given; true when it did. */
export function printJson(o: { json?: boolean }, data: unknown): boolean {
  if (o.json) out(JSON.stringify(data, null, 2));
  return !!o.json;
}

/** Options every API verb takes. */
export interface ClientOptions {
  app?: string;
  remote?: string;
  json?: boolean;
  dataDir?: string;
}

/** The client for a command's options. */
export function clientFor(opts: ClientOptions): ApiClient {
  return ApiClient.fromEnv(opts.dataDir);
}

/** Write a line to stdout. */
export function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Print rows as aligned columns. */
export function table(rows: string[][]): void {
  const widths: number[] = [];
  for (const r of rows) for (const [i, c] of r.entries()) widths[i] = Math.max(widths[i] ?? 0, c.length);
  for (const r of rows) out(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  '));
}
