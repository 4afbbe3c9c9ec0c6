/**
 * A real npm registry on loopback for the journey tests: Verdaccio (from the npm registry, a
 * dev dependency of the repository). Packages named `@slipway/*` and `acme-*` live only here
 * (never proxied, so a public package of that name cannot get in the way) and start empty at
 * every run; everything else is proxied from the machine's registry, and what was proxied is
 * kept between runs (`storage`, like npm's own cache), so a run asks the upstream registry
 * only for what it has not seen. `npmrc` is a
 * user config naming the registry and a token of a user created for the run, so `npm publish`,
 * `npm install` and `lerna publish` all talk to it through npm's ordinary configuration.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { freePort } from '@slipway/addon-sdk';

/** A running local registry. */
export interface LocalRegistry {
  url: string;
  /** A .npmrc that points npm at it, with a publish token. */
  npmrc: string;
  stop(): Promise<void>;
}

/** The registry the machine's npm uses (the uplink). */
function upstream(): string {
  try {
    return execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8' }).trim();
  } catch {
    return 'https://registry.npmjs.org/';
  }
}

/**
 * Start Verdaccio (config and users in `dir`, packages in `storage`) on a free loopback port;
 * resolves once it answers.
 */
export async function startLocalRegistry(dir: string, storage: string): Promise<LocalRegistry> {
  await mkdir(dir, { recursive: true });
  await mkdir(storage, { recursive: true });
  // This run's own packages start from nothing (a version can be published once).
  for (const name of await readdir(storage))
    if (name === '@slipway' || name.startsWith('acme-') || name === '.verdaccio-db.json')
      await rm(join(storage, name), { recursive: true, force: true });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const local = { access: '$all', publish: '$authenticated', unpublish: '$authenticated' };
  const config = {
    storage,
    auth: { htpasswd: { file: join(dir, 'htpasswd'), max_users: 10 } },
    uplinks: { upstream: { url: upstream(), timeout: '60s', maxage: '1d' } },
    packages: {
      '@slipway/*': local,
      'acme-*': local,
      '**': { access: '$all', publish: '$authenticated', proxy: 'upstream' },
    },
    logs: { type: 'stdout', format: 'pretty', level: 'warn' },
    web: { enable: false },
    // Longer than npm's idle sockets live: a reused socket closed under a request hangs it up.
    server: { keepAliveTimeout: 120 },
  };
  // JSON is YAML: no YAML writer needed.
  await writeFile(join(dir, 'config.yaml'), JSON.stringify(config, null, 2));
  const bin = join(
    createRequire(import.meta.url).resolve('verdaccio/package.json'),
    '..',
    'bin',
    'verdaccio',
  );
  let output = '';
  const child: ChildProcess = spawn(
    process.execPath,
    [bin, '--config', join(dir, 'config.yaml'), '--listen', `127.0.0.1:${port}`],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await gone;
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited (${child.exitCode}):\n${output}`);
    const up = await fetch(`${url}-/ping`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`verdaccio did not answer on ${url} within 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  // A user for the run: verdaccio answers the npm "adduser" request with a token.
  const user = { name: 'journey', password: `pw-${port}-${Date.now()}` };
  const res = await fetch(`${url}-/user/org.couchdb.user:${user.name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...user, type: 'user', roles: [], date: new Date().toISOString() }),
  });
  const { token } = (await res.json()) as { token?: string };
  if (!token) {
    await stop();
    throw new Error(`verdaccio gave no token (${res.status}):\n${output}`);
  }
  const npmrc = join(dir, 'npmrc');
  const hostPath = url.replace(/^http:/, '');
  await writeFile(npmrc, `registry=${url}\n${hostPath}:_authToken=${token}\n`);
  return { url, npmrc, stop };
}
