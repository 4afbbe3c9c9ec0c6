// Over 400 lines: one platform and one attacker app are shared by every attack, which is what makes the suite affordable.
/**
 * The attack suite: a real platform (a `slipway start` process) serves two apps. B (`victim`)
 * is deployed by git push, has a Redis add-on and a secret config var, and answers a bounded
 * background request loop through the router the whole time. A (`attacker`) then attacks from
 * its build (a `heroku-postbuild` script) and from a one-off dyno (`slipway run`), with every
 * path and pid it needs handed to it (test/fixtures/attacker/attack.js): read the credentials,
 * state.db and its WAL, B's environment, slug, git repository, build cache and add-on config;
 * use B's Redis; signal B's dyno; write outside its own dirs; flood the process table; write a
 * 1 GB line without a newline and flood its logs from detached one-offs. Every
 * attempt must fail, no secret of B or of the platform may appear in anything A saw, B must
 * answer every request, and the platform's RSS is measured throughout.
 *
 * `attackSuite(options)` takes the platform's start arguments so the same cases run on another
 * dyno runtime; `startTwoAppPlatform` is the one place that sets the scene, for new cases.
 */

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import {
  CLI,
  FIXTURES,
  fixtureCopy,
  loadGenerator,
  PlatformProcess,
  removeFixtureCopies,
} from '../platform-harness.test-helper.js';

const execFileP = promisify(execFile);
const isRoot = process.getuid?.() === 0;
const PACKAGES = fileURLToPath(new URL('../../..', import.meta.url));

/** What a platform under attack is started with. */
export interface AttackSuiteOptions {
  /** Shown in the describe title, e.g. `local runtime`. */
  name: string;
  /** Extra `slipway start` arguments (another runtime's config, …). */
  startArgs?: string[];
  /**
   * One-off dynos run in a sandbox where the host's paths and processes do not exist: there a
   * refusal may also read ENOENT (no such path) or ESRCH (no such process). (Builds in the
   * stack's build root hide them too; the build's log says where it ran.)
   */
  hiddenInDynos?: boolean;
}

/** One attempt reported by the attacker. */
interface Attempt {
  name: string;
  vector: 'build' | 'run';
  succeeded: boolean;
  detail: string;
}

/** The scene: the platform, both apps, B's facts (found as root) and the running measurements. */
export interface TwoAppPlatform {
  p: PlatformProcess;
  dataDir: string;
  runtimeDir: string;
  /**
   * Secrets that must never reach A: B's config var, B's Redis password, the admin token, the
   * owner's first password, a canary in the platform's env.
   */
  secrets: string[];
  /** What A is told (ATTACK_TARGETS). */
  targets: Record<string, unknown>;
  /** B's web dyno pid when the attacks start. */
  bPid: number;
  load: ReturnType<typeof loadGenerator>;
  /** RSS (bytes) of the platform process once it answered, before any app existed. */
  startRss: number;
  /** Highest RSS (bytes) of the platform process seen so far. */
  maxRss(): number;
  stop(): Promise<void>;
}

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
}

/** Pids whose real uid is `uid` and whose command line contains `needle`. */
async function pidsOf(uid: number, needle: string): Promise<number[]> {
  const out: number[] = [];
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const status = await readFile(`/proc/${e}/status`, 'utf8').catch(() => '');
    const cmd = await readFile(`/proc/${e}/cmdline`, 'utf8').catch(() => '');
    if (Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) === uid && cmd.includes(needle)) out.push(Number(e));
  }
  return out;
}

async function git(cwd: string, args: string[]): Promise<string> {
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 't',
    GIT_AUTHOR_EMAIL: 't@t',
    GIT_COMMITTER_NAME: 't',
    GIT_COMMITTER_EMAIL: 't@t',
  };
  return (await execFileP('git', args, { cwd, env, maxBuffer: 16 << 20 })).stdout;
}

async function findFile(dir: string, name: string): Promise<string | undefined> {
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isFile() && e.name === name) return p;
    if (e.isDirectory()) {
      const found = await findFile(p, name);
      if (found) return found;
    }
  }
  return undefined;
}

/** Start the platform with apps `victim` (B, serving under load) and `attacker` (A, not yet deployed). */
export async function startTwoAppPlatform(opts: AttackSuiteOptions): Promise<TwoAppPlatform> {
  const dataDir = await mkdtemp(join(tmpdir(), 'slipway-attack-'));
  const config = join(await mkdtemp(join(tmpdir(), 'slipway-attack-cfg-')), 'slipway.config.json');
  await writeFile(
    config,
    JSON.stringify({
      defaults: false,
      plugins: [join(PACKAGES, 'buildpacks/nodejs'), join(PACKAGES, 'addons/redis')],
    }),
  );
  const canary = `canary-${randomBytes(8).toString('hex')}`;
  process.env.SLIPWAY_ATTACK_CANARY = canary;
  const p = await PlatformProcess.start(dataDir, ['--config', config, ...(opts.startArgs ?? [])]);
  delete process.env.SLIPWAY_ATTACK_CANARY;
  const creds = JSON.parse(await readFile(join(dataDir, 'credentials.json'), 'utf8')) as {
    token: string;
    password?: string;
  };
  const token = creds.token;
  const startRss = await rssOf(p.child.pid as number);
  let maxRss = startRss;
  const sampler = setInterval(async () => {
    maxRss = Math.max(maxRss, await rssOf(p.child.pid as number));
  }, 250);
  const secret = randomBytes(16).toString('hex');
  await p.ok(['apps:create', 'victim']);
  await p.ok(['apps:create', 'attacker']);
  await p.ok(['config:set', `SECRET_B=${secret}`, '-a', 'victim']);
  await p.ok(['addons:create', 'redis', '-a', 'victim'], 180_000);
  const redisUrl = new URL((await p.ok(['config:get', 'REDIS_URL', '-a', 'victim'])).trim());

  // B arrives by git push, so it has a repository on the platform.
  const bSrc = await fixtureCopy('hello');
  await git(bSrc, ['init', '-q', '-b', 'main']);
  await git(bSrc, ['add', '.']);
  await git(bSrc, ['commit', '-qm', 'victim']);
  await git(bSrc, [
    'push',
    '-q',
    `${p.apiUrl.replace('http://', `http://git:${token}@`)}/victim.git`,
    'main',
  ]);
  const load = loadGenerator(p, 'victim', 2, { maxRequests: 100_000, pauseMs: 20 });

  const runtimeDir = (await readFile(join(dataDir, 'runtime-dir'), 'utf8')).trim();
  const uids = JSON.parse(await readFile(join(dataDir, 'app-uids.json'), 'utf8')) as {
    apps: Record<string, number>;
  };
  const bUid = uids.apps.victim as number;
  const [bPid] = await pidsOf(bUid, 'server.js');
  expect(bPid, `a process of uid ${bUid} running server.js`).to.be.a('number');
  const bAppDir = join(runtimeDir, 'apps', 'victim');
  // The sandbox runtime unpacks into `sandbox-slugs` (owned by the app, under its overlays).
  const slugs = existsSync(join(bAppDir, 'sandbox-slugs')) ? 'sandbox-slugs' : 'slugs';
  const bSlug = (await readdir(join(bAppDir, slugs))).find((n) => !n.startsWith('.')) as string;
  const bDyno = (await readdir(join(bAppDir, 'dynos')))[0] as string;
  const [bRepo] = await readdir(join(dataDir, 'git'));
  const bAddonConf = await findFile(dataDir, 'redis.conf');
  const targets = {
    dataDir,
    runtimeDir,
    platformPid: p.child.pid,
    bPid,
    bAppDir,
    bSlugDir: join(bAppDir, slugs, bSlug),
    bRepo: join(dataDir, 'git', bRepo as string),
    bAddonConf,
    bAddonPort: Number(redisUrl.port),
    writeTargets: [
      dataDir,
      runtimeDir,
      join(runtimeDir, 'apps'),
      bAppDir,
      join(bAppDir, slugs, bSlug),
      join(bAppDir, 'dynos', bDyno, 'home'),
      PACKAGES,
      '/etc',
    ],
  };
  // Every target is real (checked as root), so a refusal cannot come from a wrong path.
  for (const f of [
    join(dataDir, 'credentials.json'),
    join(dataDir, 'state.db'),
    join(dataDir, 'state.db-wal'),
    join(targets.bSlugDir, 'server.js'),
    join(targets.bRepo, 'HEAD'),
    join(bAppDir, 'cache'),
    `/proc/${bPid}/environ`,
    ...targets.writeTargets,
  ])
    expect(existsSync(f), f).to.equal(true);
  expect(bAddonConf, 'the Redis add-on config file').to.be.a('string');

  return {
    p,
    dataDir,
    runtimeDir,
    secrets: [
      secret,
      decodeURIComponent(redisUrl.password),
      token,
      canary,
      ...(creds.password ? [creds.password] : []),
    ],
    targets,
    bPid,
    load,
    startRss,
    maxRss: () => maxRss,
    async stop() {
      clearInterval(sampler);
      await load.stop();
      await p.kill('SIGTERM');
      await rm(dataDir, { recursive: true, force: true });
      await rm(runtimeDir, { recursive: true, force: true });
      await rm(join(config, '..'), { recursive: true, force: true });
      await removeFixtureCopies();
    },
  };
}

/** One-off commands that attack the platform through their output (issue 11, 4). */
const OUTPUT_ATTACKS: Record<string, string> = {
  '1 GB line': "head -c 1073741824 /dev/zero | tr '\\0' x",
  'log flood': "timeout 15 yes 'flood flood flood flood flood flood flood flood' || true",
};

/** Parse `ATTACK {…}` lines out of build or run output. */
function attempts(output: string, vector: Attempt['vector']): Map<string, Attempt> {
  const out = new Map<string, Attempt>();
  for (const m of output.matchAll(/ATTACK (\{.*\})\s*$/gm)) {
    const a = JSON.parse(m[1] as string) as Attempt;
    if (a.vector === vector) out.set(a.name, a);
  }
  return out;
}

/** The attack suite against a platform started with `opts`. */
export function attackSuite(opts: AttackSuiteOptions): void {
  describe(`attack suite: one app against another (${opts.name})`, function () {
    this.timeout(300_000);
    let s: TwoAppPlatform;
    const seen: Record<Attempt['vector'], { output: string; attempts: Map<string, Attempt> }> = {
      build: { output: '', attempts: new Map() },
      run: { output: '', attempts: new Map() },
    };

    const outputAttacks: Record<
      string,
      { dyno: string; seconds: number; appLines: string; platformLines: string }
    > = {};

    before(async function () {
      if (!isRoot) {
        if (process.env.CI === 'true') throw new Error('CI must run the attack suite as root');
        console.warn('      ⚠ not root: the attack suite needs per-app uids (root); skipped');
        return this.skip();
      }
      if (!existsSync('/usr/bin/redis-server') && process.env.CI !== 'true') {
        console.warn('      ⚠ redis-server missing: the attack suite needs it for B’s add-on; skipped');
        return this.skip();
      }
      s = await startTwoAppPlatform(opts);
      const src = await fixtureCopy('hello', {
        'package.json': await readFile(join(FIXTURES, 'attacker', 'package.json'), 'utf8'),
        'attack.js': await readFile(join(FIXTURES, 'attacker', 'attack.js'), 'utf8'),
      });
      await s.p.ok(['config:set', `ATTACK_TARGETS=${JSON.stringify(s.targets)}`, '-a', 'attacker']);
      const build = await s.p.cli(['deploy', src, '-a', 'attacker'], 240_000);
      seen.build.output = build.stdout + build.stderr;
      seen.build.attempts = attempts(seen.build.output, 'build');
      const run = await s.p.cli(['run', '-a', 'attacker', '--', 'node', 'attack.js', 'run'], 120_000);
      seen.run.output = run.stdout + run.stderr;
      seen.run.attempts = attempts(seen.run.output, 'run');
      // Output attacks: detached one-offs of A write a 1 GB line without a newline (it crashed
      // the platform at 512 MB), then flood their logs for 15 s.
      for (const [name, command] of Object.entries(OUTPUT_ATTACKS)) {
        const started = await s.p.ok(['run:detached', '-a', 'attacker', '--', command]);
        const dyno = /up, (run\.\d+)/.exec(started)?.[1] as string;
        const t0 = Date.now();
        // Its own exit line is among the newest: the flood cannot have pushed it out.
        while (
          !/Process exited with status/.test(
            await s.p.ok(['logs', '-a', 'attacker', '--source', 'slipway', '--dyno', dyno, '-n', '1500']),
          )
        ) {
          if (Date.now() - t0 > 300_000) throw new Error(`${name}: ${dyno} did not finish`);
          await new Promise((r) => setTimeout(r, 500));
        }
        // What the logs kept of it, read now (the next attack pushes it out of the buffer).
        const appLines = await s.p.ok([
          'logs',
          '-a',
          'attacker',
          '--source',
          'app',
          '--dyno',
          dyno,
          '-n',
          '20',
        ]);
        const platformLines = await s.p.ok([
          'logs',
          '-a',
          'attacker',
          '--source',
          'slipway',
          '--dyno',
          dyno,
          '-n',
          '1500',
        ]);
        outputAttacks[name] = { dyno, seconds: (Date.now() - t0) / 1000, appLines, platformLines };
      }
    });
    after(async () => {
      await s?.stop();
    });

    for (const vector of ['build', 'run'] as const) {
      const attempt = (name: string): Attempt => {
        const a = seen[vector].attempts.get(name);
        expect(a, `${vector}: no "${name}" attempt in:\n${seen[vector].output.slice(-3000)}`).to.not.equal(
          undefined,
        );
        return a as Attempt;
      };
      const refused = (name: string, expected = ['EACCES', 'EPERM']) => {
        // A build in the stack's build root (the platform says so in its log) sees no host path
        // or process beyond its own: there too a refusal may read "no such path or process".
        const hidden =
          vector === 'run'
            ? opts.hiddenInDynos
            : /-----> Build root: the \S+ stack's/.test(seen.build.output);
        const codes = hidden ? [...expected, 'ENOENT', 'ESRCH'] : expected;
        const a = attempt(name);
        expect(a.succeeded, `${vector}: ${name} worked: ${a.detail}`).to.equal(false);
        expect(codes, `${vector}: ${name} failed for another reason`).to.include(a.detail);
      };
      const via = vector === 'build' ? 'build (heroku-postbuild)' : 'one-off dyno';

      it(`A's ${via} runs as A's own uid with no supplementary groups, not root`, () => {
        const id = JSON.parse(attempt('identity').detail);
        console.log(`      ${vector}: ${attempt('identity').detail}`);
        expect(id.uid).to.be.at.least(200_000);
        expect(id.gid).to.equal(id.uid);
        expect(id.groups).to.deep.equal([id.gid]);
      });
      it(`A's ${via} sees none of the platform's environment and no secret of B or the platform`, () => {
        expect(seen[vector].output).to.include('ATTACK-DONE');
        for (const secret of s.secrets) expect(seen[vector].output).to.not.include(secret);
        expect(seen[vector].output).to.not.match(/"HOME":"\/root"/);
      });
      it(`A's ${via} cannot read credentials.json, state.db or its WAL, nor list the data dir`, () => {
        refused('read credentials.json');
        refused('read state.db');
        refused('read state.db-wal');
        refused('list the data dir');
      });
      it(`A's ${via} cannot list the runtime dir or its apps, nor enter B's app dir`, () => {
        refused('list the runtime dir');
        refused('list the apps of the runtime dir');
        refused("list B's app dir");
        refused("list B's build cache");
      });
      it(`A's ${via} cannot read B's environment (/proc/<pid>/environ) or the platform's`, () => {
        refused("read B's environment");
        refused("read the platform's environment");
      });
      it(`A's ${via} cannot read B's slug, git repository or add-on config`, () => {
        refused("read B's slug");
        refused("read B's git repository");
        refused("read B's add-on config");
        refused('read /etc/shadow');
      });
      it(`A's ${via} cannot use B's Redis without B's password`, () => {
        const a = attempt("use B's add-on without its password");
        expect(a.succeeded, a.detail).to.equal(false);
        expect(a.detail).to.match(/NOAUTH/);
      });
      it(`A's ${via} cannot signal B's dyno`, () => refused("signal B's dyno", ['EPERM']));
      it(`A's ${via} cannot write outside its own dirs`, async () => {
        for (const dir of s.targets.writeTargets as string[]) {
          refused(`write into ${dir}`, ['EACCES', 'EPERM', 'EROFS']);
          expect(existsSync(join(dir, 'pwned-by-attacker')), dir).to.equal(false);
        }
      });
      it(`A's ${via} hits its process limit long before the machine's`, () => {
        const a = attempt('process flood');
        expect(a.succeeded, a.detail).to.equal(false);
        console.log(`      ${vector}: ${a.detail}`);
        const n = Number(/^(\d+) children/.exec(a.detail)?.[1]);
        expect(n, a.detail).to.be.below(vector === 'build' ? 512 : 256);
        expect(a.detail).to.match(/EAGAIN/);
      });
    }

    it("A's one-off cannot crash the platform with a 1 GB line: it is logged in 10,000-byte pieces", () => {
      const a = outputAttacks['1 GB line'];
      expect(a, 'the 1 GB line attack ran').to.not.equal(undefined);
      const { dyno, seconds, appLines } = a as NonNullable<typeof a>;
      console.log(
        `      1 GB line from ${dyno}: ${seconds.toFixed(1)} s, platform RSS peak so far ${(s.maxRss() / 1048576).toFixed(1)} MB`,
      );
      expect(s.p.child.exitCode, 'the platform is alive').to.equal(null);
      const pieces = appLines.split('\n').filter((l) => /: x+$/.test(l));
      expect(pieces.length, appLines.slice(-500)).to.be.greaterThan(0);
      for (const l of pieces) expect(l.slice(l.indexOf(']: ') + 3).length).to.be.at.most(10_000);
    });

    it("A's log flood is dropped with an L10 notice, not queued", () => {
      const a = outputAttacks['log flood'];
      expect(a, 'the log flood attack ran').to.not.equal(undefined);
      const { dyno, seconds, platformLines } = a as NonNullable<typeof a>;
      console.log(`      log flood from ${dyno}: ${seconds.toFixed(1)} s`);
      expect(platformLines).to.match(/Error L10 \(output buffer overflow\): \d+ messages dropped since /);
    });

    it('the CLI stops quietly when its reader goes away (`slipway logs | head -1`)', async () => {
      const errFile = join(tmpdir(), `slipway-epipe-${process.pid}`);
      const { stdout } = await execFileP(
        'bash',
        [
          '-c',
          'node "$1" logs -a attacker -n 1500 2>"$2" | head -1; echo "$PIPESTATUS"; cat "$2"',
          'sh',
          CLI,
          errFile,
        ],
        { env: { ...process.env, SLIPWAY_DATA_DIR: s.dataDir, SLIPWAY_API_URL: '', SLIPWAY_TOKEN: '' } },
      );
      await rm(errFile, { force: true });
      const [first = '', code = '', ...stderr] = stdout.split('\n');
      expect(first).to.match(/^\d{4}-\d\d-\d\dT/);
      expect(stderr.join('\n').trim(), 'nothing on stderr, no stack trace').to.equal('');
      expect(code).to.equal('0');
    });

    it('B kept serving through every attack: its dyno is the same, 0 failed requests', async () => {
      const stats = await s.load.stop();
      console.log(`      B answered ${stats.ok} requests during the attacks, ${stats.failed} failed`);
      expect(stats.failures.slice(0, 5), 'failed requests').to.deep.equal([]);
      expect(stats.ok).to.be.above(20);
      expect(existsSync(`/proc/${s.bPid}`), 'B’s dyno survived').to.equal(true);
      expect((await s.p.get('victim')).status).to.equal(200);
    });

    it('the platform stayed under 300 MB RSS through the whole suite', () => {
      const mb = (n: number) => (n / 1048576).toFixed(1);
      console.log(
        `      platform RSS: ${mb(s.startRss)} MB at start, peak ${mb(s.maxRss())} MB (${(s.maxRss() / s.startRss).toFixed(2)}x)`,
      );
      expect(s.maxRss()).to.be.above(0);
      expect(s.maxRss()).to.be.below(300 * 1048576);
    });
  });
}

attackSuite({ name: 'local runtime', startArgs: ['--runtime', 'local'] });
attackSuite({ name: 'sandbox runtime', startArgs: ['--runtime', 'sandbox'], hiddenInDynos: true });
