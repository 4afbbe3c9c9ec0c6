/**
 * The README, verbatim, on a fresh clone: `git clone` of this checkout's committed HEAD into a
 * directory only its owner may enter (mode 700, like /root), then the quick start (`npm install
 * && npm start`: the example URLs answer), the CLI block line by line, and both author journeys
 * (scaffold → test → pack → publish to a local registry → install elsewhere → use on the
 * platform: deploy an app with the buildpack, provision the add-on). The blocks are read from
 * the clone's README.md, so the README cannot drift from what is tested.
 *
 * Real everything: npm (the machine's cache, `--prefer-offline`), a Verdaccio registry on
 * loopback (storage in a temp dir) that lerna publishes the SDKs to, git, the platform with its
 * Postgres/Redis/mail add-ons and the language toolchains. Long by nature (one npm install and
 * one platform start, shared by every step); it needs the npm registry, so it fails under
 * CI=true without one and is skipped elsewhere.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '@slipway/addon-sdk';
import { expect } from 'chai';
import * as tar from 'tar';
import { type LocalRegistry, startLocalRegistry } from './local-registry.test-helper.js';
import {
  type Background,
  getThroughRouter,
  runLine,
  shellBlocks,
  startLine,
} from './readme-runner.test-helper.js';

const execFileP = promisify(execFile);
const REPO = fileURLToPath(new URL('../../../../', import.meta.url));

/**
 * README lines that would make the platform reach a host outside this machine (this machine and
 * CI reach only the package registries): listed, warned about and not run.
 */
const OUTSIDE: [RegExp, string][] = [
  [
    /certs:auto:enable/,
    "the platform would ask Let's Encrypt for a certificate; the ACME flow has its own test",
  ],
];

/**
 * This checkout's compiled better-sqlite3 as a local prebuild, through prebuild-install's own
 * `local_prebuilds` setting: the clone's `npm install` then unpacks it, as a user's would
 * download the published prebuild, instead of compiling SQLite again (minutes on this machine).
 * Another version or Node ABI finds no file there and compiles as usual.
 */
async function localPrebuilds(dir: string): Promise<Record<string, string>> {
  const pkgDir = dirname(createRequire(join(REPO, 'package.json')).resolve('better-sqlite3/package.json'));
  const { version } = JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8'));
  const binary = 'build/Release/better_sqlite3.node';
  if (!existsSync(join(pkgDir, binary))) return {};
  await mkdir(dir, { recursive: true });
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  await tar.c({ gzip: true, file: join(dir, name), cwd: pkgDir }, [binary]);
  return { npm_config_better_sqlite3_local_prebuilds: dir };
}

describe('the README on a fresh clone in a mode-700 directory: quick start, CLI block, both author journeys', function () {
  this.timeout(60 * 60_000);
  let tmp: string;
  let home: string;
  let clone: string;
  let readme: string;
  let registry: LocalRegistry | undefined;
  let platform: Background | undefined;
  const background: Background[] = [];
  let env: NodeJS.ProcessEnv;
  /** The journeys' npm talks to the local registry (the user's `npm config` would name theirs). */
  let journeyEnv: NodeJS.ProcessEnv;
  let routerPort = 0;
  /** For the clone's `npm install` only (npm warns about the setting on every other command). */
  let prebuilds: Record<string, string> = {};

  /** What a user types at a line's prompts: `slipway login` asks for the owner's email and password. */
  const inputFor = async (line: string) => {
    if (!/slipway login\b/.test(line)) return undefined;
    const c = JSON.parse(await readFile(join(clone, '.slipway', 'credentials.json'), 'utf8'));
    return `${c.email}\n${c.password}\n`;
  };
  /** Run README lines one by one; each must exit 0. */
  const runAll = async (lines: string[], e: NodeJS.ProcessEnv) => {
    for (const line of lines) {
      const offline = OUTSIDE.find(([re]) => re.test(line));
      if (offline) {
        console.warn(`\n  !!! not run: ${line}\n      (${offline[1]})\n`);
        continue;
      }
      const r = await runLine(line, clone, e, await inputFor(line));
      expect(r.code, `$ ${line}\n${r.output.slice(-8000)}`).to.equal(0);
    }
  };
  const slipway = async (args: string[]) => {
    const r = await execFileP(process.execPath, [join(clone, 'packages/cli/bin/slipway.js'), ...args], {
      cwd: clone,
      env,
    });
    return r.stdout;
  };

  before(async function () {
    // Under the root `npm test`, npm_* variables describe the monorepo; SLIPWAY_* would point
    // the CLI elsewhere. The clone must be used as a user would, from a clean environment.
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^(npm_|SLIPWAY_)/i.test(k)),
    ) as NodeJS.ProcessEnv;
    const ping = await execFileP('npm', ['ping'], { env: clean }).then(
      () => '',
      (e) => String(e.stderr || e.message),
    );
    if (ping) {
      if (process.env.CI === 'true') throw new Error(`the npm registry is unreachable: ${ping}`);
      console.warn(
        `\n  !!! SKIPPED the fresh-clone README journeys: the npm registry is unreachable (${ping.trim()})\n`,
      );
      this.skip();
    }
    tmp = await mkdtemp(join(tmpdir(), 'slipway-fresh-clone-'));
    // Only `private` is the user's private directory (as /root is); above it, the usual /tmp.
    await chmod(tmp, 0o755);
    home = join(tmp, 'private');
    await mkdir(home, { mode: 0o700 });
    await chmod(home, 0o700);
    clone = join(home, 'slipway');
    await execFileP('git', ['clone', '--quiet', REPO, clone]);
    readme = await readFile(join(clone, 'README.md'), 'utf8');
    const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
    registry = await startLocalRegistry(join(tmp, 'registry'), join(cache, 'slipway', 'test-registry'));
    routerPort = await freePort();
    env = {
      ...clean,
      SLIPWAY_PORT: String(routerPort),
      SLIPWAY_API_PORT: String(await freePort()),
      SLIPWAY_HTTPS_PORT: String(await freePort()),
      // `slipway login` saves the session here, not in the real ~/.slipway.
      SLIPWAY_LOGIN_FILE: join(tmp, 'login.json'),
      npm_config_prefer_offline: 'true',
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
      npm_config_audit: 'false',
      // `git subtree push` writes commits: it needs a name, as a user's git config gives.
      GIT_AUTHOR_NAME: 'Journey',
      GIT_AUTHOR_EMAIL: 'journey@example.test',
      GIT_COMMITTER_NAME: 'Journey',
      GIT_COMMITTER_EMAIL: 'journey@example.test',
    };
    journeyEnv = { ...env, npm_config_userconfig: registry.npmrc };
    prebuilds = await localPrebuilds(join(tmp, 'prebuilds'));
  });

  after(async () => {
    for (const b of background.reverse()) await b.stop();
    await platform?.stop();
    await registry?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('has the two quick-start commands, the CLI block and both journeys in its README', () => {
    const [quick, cli] = shellBlocks(readme, 'Quick start');
    expect(quick?.[0]).to.match(/^npm install && npm start\b/);
    expect(cli?.length).to.be.greaterThan(10);
    expect(shellBlocks(readme, 'Write a buildpack')).to.have.length(1);
    expect(shellBlocks(readme, 'Write an add-on')).to.have.length(2);
  });

  it('npm install && npm start: npx slipway works, the platform starts, the example URLs answer', async () => {
    const line = (shellBlocks(readme, 'Quick start')[0] as string[])[0] as string;
    const apps = (await readdir(join(clone, 'examples/apps'), { withFileTypes: true })).filter((d) =>
      d.isDirectory(),
    ).length;
    // Ready once the demo lists every example app.
    const ready = new RegExp(`Demo apps:\\n(.*\\n){${apps}}`);
    platform = await startLine(line, clone, { ...env, ...prebuilds }, ready, 30 * 60_000);
    expect((await runLine('npx slipway --version', clone, env)).output).to.match(/^0\.1\.0$/m);
    const out = platform.output();
    expect(out).to.match(/Add-on providers:[\s\S]*postgres/);
    const listed = (out.split('Demo apps:\n')[1] as string).split('\n').slice(0, apps);
    const urls = listed.map((l) => /^\s+(\S+)\s+(.*)$/.exec(l) ?? [l, l, '']);
    expect(
      urls.map((m) => m[2]),
      out.slice(-4000),
    ).to.have.length(apps);
    for (const [, app, url] of urls) {
      expect(url, `${app}: ${out.slice(-4000)}`).to.match(/^http:\/\//);
      const r = await getThroughRouter(url as string);
      expect(r.status, `${app} at ${url}: ${r.body.slice(0, 300)}`).to.equal(200);
    }
  });

  it('npm start in the mode-700 directory: the platform runs there (its data dir is its own)', async () => {
    // Still nobody else's to read or write (the platform may add o+x to reach its data dir).
    expect((await stat(home)).mode & 0o066).to.equal(0);
    expect(platform?.exited()).to.equal(false);
  });

  it('runs the CLI block line by line', async () => {
    expect(platform, 'the platform of the quick start').to.not.equal(undefined);
    await runAll(shellBlocks(readme, 'Quick start')[1] as string[], env);
    const hello = await getThroughRouter(`http://hello.localhost:${routerPort}/`);
    expect(hello.status, 'maintenance:on answers 503 (H80)').to.equal(503);
  });

  it('the buildpack journey: lerna publishes the SDKs, scaffold → test → pack → publish → install elsewhere → deploy with it', async () => {
    await runAll(shellBlocks(readme, 'Write a buildpack')[0] as string[], journeyEnv);
    const pkg = JSON.parse(await readFile(join(home, 'acme-static/package.json'), 'utf8'));
    expect(pkg.dependencies['@slipway/buildpack-sdk']).to.equal('^0.1.0');
    // Installed from the registry, not linked from anywhere.
    const installed = JSON.parse(
      await readFile(join(home, 'plugins/node_modules/@slipway/buildpack-sdk/package.json'), 'utf8'),
    );
    expect(installed.version).to.equal('0.1.0');
    const site = await getThroughRouter(`http://site.localhost:${routerPort}/`);
    expect(site.status, site.body).to.equal(200);
  });

  it('the add-on journey: scaffold → test → pack → publish → install elsewhere → register with the platform → provision', async () => {
    const [make, use] = shellBlocks(readme, 'Write an add-on') as [string[], string[]];
    await runAll(make.slice(0, -1), journeyEnv);
    const service = await startLine(make.at(-1) as string, clone, journeyEnv, /listening on/, 120_000);
    background.push(service);
    await runAll(use, journeyEnv);
    const config = JSON.parse(await slipway(['config', '-a', 'site', '--json'])) as Record<string, string>;
    const url = config.ACME_KV_URL as string;
    expect(url).to.match(/^http:\/\//);
    // The bucket the provider made answers with the credentials in its URL.
    const u = new URL(`${url}/greeting`);
    const auth = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
    u.username = '';
    u.password = '';
    expect(
      (await fetch(u, { method: 'PUT', body: 'hi', headers: { authorization: auth } })).status,
    ).to.be.lessThan(300);
    expect(await (await fetch(u, { headers: { authorization: auth } })).text()).to.equal('hi');
    expect(await slipway(['addons:providers'])).to.match(/acme-kv\s+partner\s+acme-kv/);
  });
});
