/**
 * Test helpers (not exported from the package): copy the fixture app as a variant, talk to the
 * API, deploy with the real `slipway` CLI and send requests through the real router.
 */
import { execFile } from 'node:child_process';
import { chmod, cp, mkdtemp, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** The `slipway` CLI this package depends on. */
export const CLI = join(dirname(require.resolve('@slipway/cli/package.json')), 'dist', 'bin.js');

/** The package root (holds slipway.config.json and test/fixtures). */
export const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));

/** A copy of the hello-node fixture whose answer names `variant`. */
export async function appVariant(root: string, variant: string): Promise<string> {
  const dir = await mkdtemp(join(root, `${variant}-`));
  await chmod(dir, 0o755);
  await cp(join(PACKAGE_DIR, 'test', 'fixtures', 'hello-node'), dir, { recursive: true });
  await writeFile(join(dir, 'variant.txt'), `${variant}\n`);
  return dir;
}

/** A fresh temp dir for a test run, open to the unprivileged user dynos run as under root. */
export async function tempRoot(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-custom-platform-'));
  await chmod(dir, 0o755);
  return dir;
}

/** Call the platform API with its admin token; throws with the body on an error status. */
export async function api(
  p: { apiUrl: string; token: string },
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const res = await fetch(`${p.apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${p.token}`,
      accept: 'application/vnd.heroku+json; version=3',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** `slipway deploy DIR -a APP` against the platform in `dataDir`; rejects with the output on failure. */
export function deploy(dataDir: string, dir: string, app: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [CLI, 'deploy', dir, '-a', app, '--data-dir', dataDir],
      {
        timeout: 240_000,
        maxBuffer: 16 << 20,
        env: { ...process.env, SLIPWAY_API_URL: '', SLIPWAY_TOKEN: '' },
      },
      (err, stdout, stderr) =>
        err
          ? reject(new Error(`slipway deploy ${app} failed: ${err.message}\n${stdout}\n${stderr}`))
          : resolve(stdout),
    );
  });
}

/** One answer from the router. */
export interface Answer {
  status: number;
  body: string;
}

/** GET `/` of `host` through the router at `port`, with extra headers. */
export function get(port: number, host: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`GET ${host}: timeout`)));
    req.on('error', reject);
    req.end();
  });
}

/** Poll until `check` passes (it throws while not), or fail with its last error. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
