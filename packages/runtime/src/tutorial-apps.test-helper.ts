/**
 * Apps shaped like Heroku's tutorials on a real platform: one started in a temp dir with the
 * default buildpacks and the Postgres add-on, apps pushed with the real `git` client (a fixture
 * copied into a fresh repository, some files rewritten, committed and pushed over HTTP with the
 * platform's token), their JSON pages read through the router. Shared by the tutorial-app and
 * stack e2e tests.
 */
import { execFile } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { type Platform, startPlatform } from './platform.js';
import { routerGet } from './platform-harness.test-helper.js';
import { DEFAULT_BUILDPACKS } from './plugins.js';

/** Start a platform in a new temp dir `<prefix>XXXXXX` (with `home/` for git) with the Postgres add-on. */
export async function startTutorialPlatform(prefix: string): Promise<{ dir: string; p: Platform }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await chmod(dir, 0o755);
  await mkdir(join(dir, 'home'));
  const postgres = fileURLToPath(new URL('../../addons/postgres', import.meta.url));
  await writeFile(
    join(dir, 'slipway.config.json'),
    JSON.stringify({ defaults: false, plugins: [...DEFAULT_BUILDPACKS, postgres] }),
  );
  const p = await startPlatform({
    dataDir: join(dir, 'data'),
    routerPort: 0,
    apiPort: 0,
    configFile: join(dir, 'slipway.config.json'),
    stopGraceMs: 1000,
  });
  return { dir, p };
}

/** Stop the platform and remove its dir (retrying: Postgres may still write its WAL a moment). */
export async function stopTutorialPlatform(p: Platform | undefined, dir: string | undefined): Promise<void> {
  await p?.stop();
  if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
}

/** The JSON an app answers at `path` through the router, which must be a 200. */
export async function routerJson(routerPort: number, app: string, path: string): Promise<any> {
  const r = await routerGet(routerPort, app, path);
  expect(r.status, r.body).to.equal(200);
  return JSON.parse(r.body);
}

/** Run a command; its exit code and its stdout and stderr together (never rejects). */
export const run = (file: string, args: string[], cwd: string, env: Record<string, string> = {}) =>
  new Promise<{ code: number; out: string }>((resolve) =>
    execFile(file, args, { cwd, maxBuffer: 64 << 20, env: { ...process.env, ...env } }, (err, so, se) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: so + se }),
    ),
  );

/**
 * Commit `fixture` (with `edit`'s files written over it) in `<workDir>/<app>-repo` and push it to
 * `app` on `platform`; git's HOME is `<workDir>/home`. Resolves with the push's exit code and output.
 */
export async function pushFixture(
  platform: { apiUrl: string; token: string },
  workDir: string,
  app: string,
  fixture: string,
  edit: Record<string, string> = {},
): Promise<{ code: number; out: string }> {
  const repo = join(workDir, `${app}-repo`);
  await rm(repo, { recursive: true, force: true });
  await cp(fixture, repo, { recursive: true });
  for (const [file, text] of Object.entries(edit)) await writeFile(join(repo, file), text);
  const env = { HOME: join(workDir, 'home'), GIT_TERMINAL_PROMPT: '0' };
  const g = (args: string[]) =>
    run('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.com', ...args], repo, env);
  await g(['init', '-q', '-b', 'main']);
  await g(['add', '-A']);
  await g(['commit', '-q', '-m', app]);
  const url = `${platform.apiUrl.replace('http://', `http://git:${platform.token}@`)}/${app}.git`;
  return g(['push', '--force', url, 'main']);
}
