import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'chai';

const BIN = fileURLToPath(new URL('../bin.js', import.meta.url));

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the real CLI as a user would, from `cwd`. */
function slipway(args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd, env: { ...process.env, ...env } },
      (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait up to 5 s for `pid` to be gone (a zombie waiting to be reaped counts as gone). */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    try {
      process.kill(pid, 0);
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') return true;
    } catch {
      return true;
    }
    await sleep(100);
  }
  return false;
}

async function script(file: string, text: string): Promise<void> {
  await writeFile(file, text);
  await chmod(file, 0o755);
}

/** A classic Heroku buildpack in bash: detect on hello.txt, compile with ENV_DIR and CACHE_DIR, YAML release. */
async function writeHelloBuildpack(dir: string): Promise<void> {
  await mkdir(join(dir, 'bin'), { recursive: true });
  await script(
    join(dir, 'bin/detect'),
    `#!/usr/bin/env bash
if [ -f "$1/hello.txt" ]; then echo "Hello"; exit 0; fi
echo "no hello.txt"; exit 1
`,
  );
  await script(
    join(dir, 'bin/compile'),
    `#!/usr/bin/env bash
set -euo pipefail
BUILD_DIR=$1; CACHE_DIR=$2; ENV_DIR=$3
BP_DIR=$(cd "$(dirname "$0")/.." && pwd)
echo "-----> Compiling hello"
if [ -f "$CACHE_DIR/counter" ]; then n=$(( $(cat "$CACHE_DIR/counter") + 1 )); echo "       cache hit: build $n"
else n=1; echo "       cache miss"; fi
echo "$n" > "$CACHE_DIR/counter"
greeting=$(cat "$ENV_DIR/GREETING" 2>/dev/null || echo none)
echo "       GREETING in env: \${GREETING:-unset}; STACK=$STACK"
echo "       a line on stderr" >&2
mkdir -p "$BUILD_DIR/bin"
printf '#!/bin/sh\\necho "%s from build %s"\\n' "$greeting" "$n" > "$BUILD_DIR/bin/hello"
chmod +x "$BUILD_DIR/bin/hello"
echo "export HELLO_HOME=\\"$BUILD_DIR/bin\\"" > "$BP_DIR/export"
`,
  );
  await script(
    join(dir, 'bin/release'),
    `#!/usr/bin/env bash
cat <<'YAML'
---
default_process_types:
  web: bin/hello
  worker: bin/hello --work
config_vars:
  HELLO: "1"
addons:
  - heroku-postgresql:mini
YAML
`,
  );
}

describe('slipway build (real CLI, classic buildpack outside the repo)', function () {
  this.timeout(60000);
  let root: string;
  let bp: string;
  let app: string;
  let cache: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'slipway-cli-build-'));
    bp = join(root, 'hello-buildpack');
    app = join(root, 'app');
    cache = join(root, 'cache');
    await writeHelloBuildpack(bp);
    await mkdir(app);
    await writeFile(join(app, 'hello.txt'), 'hi\n');
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('builds, streams Heroku-style output and writes a slug that runs', async () => {
    const slug = join(root, 'out', 'slug.tgz');
    await mkdir(join(root, 'out'));
    const r = await slipway(
      ['build', app, '-b', bp, '-o', slug, '--cache-dir', cache, '--env', 'GREETING=hi there'],
      root,
    );
    expect(r.code, r.stderr + r.stdout).to.equal(0);
    const lines = r.stdout.split('\n');
    expect(lines).to.include('-----> Hello app detected');
    expect(lines).to.include('-----> Compiling hello');
    expect(lines).to.include('       cache miss');
    // Heroku's contract: config vars are in ENV_DIR, not the environment.
    expect(lines).to.include('       GREETING in env: unset; STACK=slipway-13');
    expect(lines).to.include('       a line on stderr');
    expect(lines).to.include('       web: bin/hello');
    expect(r.stdout).to.match(/Checksum: sha256:[0-9a-f]{64}/);
    expect(r.stdout).to.include(`Slug: ${slug}`);
    const meta = JSON.parse(await readFile(join(root, 'out', 'slug.json'), 'utf8'));
    expect(meta.process_types).to.deep.equal({ web: 'bin/hello', worker: 'bin/hello --work' });
    expect(meta.buildpacks).to.deep.equal([{ id: 'hello-buildpack', name: 'Hello' }]);
    const unpacked = join(root, 'unpacked');
    await mkdir(unpacked);
    const tar = await new Promise<string>((resolve, reject) =>
      execFile('tar', ['-xzf', slug, '-C', unpacked], (e, out) => (e ? reject(e) : resolve(out))),
    );
    expect(tar).to.equal('');
    const hello = await new Promise<string>((resolve, reject) =>
      execFile(join(unpacked, 'bin/hello'), (e, out) => (e ? reject(e) : resolve(out))),
    );
    expect(hello).to.equal('hi there from build 1\n');
  });

  it("gives a Node.js app the platform's shared Node.js, packed once for every build", async () => {
    const node = join(root, 'node-app');
    await mkdir(node);
    await writeFile(join(node, 'package.json'), JSON.stringify({ name: 'n', version: '1.0.0' }));
    await writeFile(join(node, 'server.js'), 'console.log(process.version)\n');
    for (const n of [1, 2]) {
      const slug = join(root, `node-${n}.tgz`);
      const r = await slipway(
        ['build', node, '-o', slug, '--cache-dir', join(root, `node-cache-${n}`)],
        root,
      );
      expect(r.code, r.stderr + r.stdout).to.equal(0);
      // A fresh cache each time, and still nothing copied or compressed for the runtime.
      expect(r.stdout).to.include("The platform's shared copy: packed once for every app");
      expect(r.stdout).to.include("Used the platform's packed .heroku/node");
      const unpacked = join(root, `node-unpacked-${n}`);
      await mkdir(unpacked);
      await new Promise<void>((resolve, reject) =>
        execFile('tar', ['-xzf', slug, '-C', unpacked], (e) => (e ? reject(e) : resolve())),
      );
      const version = await new Promise<string>((resolve, reject) =>
        execFile(join(unpacked, '.heroku/node/bin/node'), ['server.js'], { cwd: unpacked }, (e, out) =>
          e ? reject(e) : resolve(out.trim()),
        ),
      );
      expect(version).to.equal(process.version);
    }
  });

  it('reuses the cache dir on the next build', async () => {
    const r = await slipway(['build', app, '-b', bp, '--cache-dir', cache], root);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('       cache hit: build 2');
    expect(r.stdout).to.include('No slug written');
  });

  it('passes the export file of a classic buildpack to the next buildpack', async () => {
    const second = join(root, 'show-buildpack');
    await mkdir(join(second, 'bin'), { recursive: true });
    await script(join(second, 'bin/detect'), '#!/bin/sh\necho Show\n');
    await script(join(second, 'bin/compile'), '#!/bin/sh\necho "       HELLO_HOME=$HELLO_HOME"\n');
    const r = await slipway(['build', app, '-b', bp, '-b', second, '--cache-dir', cache], root);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/HELLO_HOME=\/.+\/app\/bin\n/);
    // The second buildpack has no bin/release: the first one's process types stay.
    expect(r.stdout).to.include('       web: bin/hello');
  });

  it('loads a buildpack from a git URL', async () => {
    const repo = join(root, 'repo');
    await new Promise<void>((resolve, reject) =>
      execFile(
        'bash',
        [
          '-c',
          'cp -r "$1" "$2" && cd "$2" && git init -q && git add -A && git -c user.name=t -c user.email=t@example.com commit -qm bp',
          'bash',
          bp,
          repo,
        ],
        (e) => (e ? reject(e) : resolve()),
      ),
    );
    const r = await slipway(
      ['build', app, '-b', `file://${repo}`, '--cache-dir', join(root, 'cache-git')],
      root,
      {
        XDG_CACHE_HOME: join(root, 'xdg'),
      },
    );
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('-----> Hello app detected');
    expect(r.stdout).to.include('       cache miss');
  });

  it('fails with a coded error and writes no slug when compile fails', async () => {
    const broken = join(root, 'broken-buildpack');
    await mkdir(join(broken, 'bin'), { recursive: true });
    await script(join(broken, 'bin/detect'), '#!/bin/sh\necho Broken\n');
    await script(
      join(broken, 'bin/compile'),
      '#!/bin/sh\necho "-----> Trying"\necho "disk on fire" >&2\nexit 4\n',
    );
    const slug = join(root, 'broken.tgz');
    const r = await slipway(['build', app, '-b', broken, '-o', slug, '--cache-dir', cache], root);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.include('-----> Trying');
    expect(r.stderr).to.include('(SLIPWAY_ERR_BUILDPACK_COMMAND_FAILED)');
    expect(r.stderr).to.include('[buildpack broken-buildpack]');
    expect(r.stderr).to.include('exited with code 4');
    expect(r.stderr).to.include('disk on fire');
    expect(existsSync(slug)).to.equal(false);
  });

  it('kills a hung buildpack on --timeout and when the CLI is told to stop', async () => {
    const hang = join(root, 'hang-buildpack');
    await mkdir(join(hang, 'bin'), { recursive: true });
    await script(join(hang, 'bin/detect'), '#!/bin/sh\necho Hang\n');
    await script(
      join(hang, 'bin/compile'),
      '#!/bin/bash\necho "-----> Sleeping"\nsleep 300 &\necho $! > "$2/sleep.pid"\nwait\n',
    );
    const hangCache = join(root, 'cache-hang');
    const slug = join(root, 'hang.tgz');
    const timedOut = await slipway(
      ['build', app, '-b', hang, '--timeout', '0.03', '-o', slug, '--cache-dir', hangCache],
      root,
    );
    expect(timedOut.code).to.equal(1);
    expect(timedOut.stdout).to.include('-----> Sleeping');
    expect(timedOut.stderr).to.include('(SLIPWAY_ERR_BUILD_TIMEOUT)');
    expect(existsSync(slug)).to.equal(false);
    const pid = Number(await readFile(join(hangCache, 'hang-buildpack', 'sleep.pid'), 'utf8'));
    expect(await gone(pid), 'sleep left running after the timeout').to.equal(true);

    const cli = spawn(process.execPath, [BIN, 'build', app, '-b', hang, '--cache-dir', hangCache], {
      cwd: root,
    });
    let stdout = '';
    let stderr = '';
    cli.stderr.on('data', (d) => {
      stderr += d;
    });
    await new Promise<void>((resolve) =>
      cli.stdout.on('data', (d) => {
        stdout += d;
        if (stdout.includes('-----> Sleeping')) resolve();
      }),
    );
    await sleep(200);
    cli.kill('SIGTERM');
    const code = await new Promise((resolve) => cli.on('close', resolve));
    expect(code).to.equal(1);
    expect(stderr).to.include('(SLIPWAY_ERR_BUILD_ABORTED)');
    const pid2 = Number(await readFile(join(hangCache, 'hang-buildpack', 'sleep.pid'), 'utf8'));
    expect(pid2).to.not.equal(pid);
    expect(await gone(pid2), 'sleep left running after SIGTERM').to.equal(true);
  });

  it('says why a pinned buildpack does not apply', async () => {
    const other = join(root, 'other-app');
    await mkdir(other);
    await writeFile(join(other, 'README'), 'nothing to see\n');
    const r = await slipway(['build', other, '-b', bp, '--cache-dir', cache], root);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include('(SLIPWAY_ERR_BUILD_DETECT_PINNED)');
    expect(r.stderr).to.include('bin/detect exited with code 1: no hello.txt');
  });

  it('offers the buildpacks listed in slipway.config.json in the current directory', async () => {
    const project = join(root, 'project');
    const sdk = pathToFileURL(fileURLToPath(import.meta.resolve('@slipway/buildpack-sdk'))).href;
    await mkdir(join(project, 'greeter'), { recursive: true });
    await writeFile(
      join(project, 'greeter/package.json'),
      JSON.stringify({ name: 'greeter', type: 'module', main: 'index.js' }),
    );
    await writeFile(
      join(project, 'greeter/index.js'),
      `import { defineBuildpack, DetectStage } from ${JSON.stringify(sdk)};
export default defineBuildpack({
  id: 'greeter', name: 'Greeter', stage: DetectStage.EARLY,
  detect: async (ctx) => (await ctx.exists('hello.txt')) ? { detected: true } : { detected: false, reason: 'no hello.txt' },
  compile: (ctx) => ctx.run('echo', ['greeted ' + ctx.env.WHO]),
  release: () => ({ processTypes: { web: 'echo hi' } }),
});
`,
    );
    await writeFile(join(project, 'slipway.config.json'), JSON.stringify({ plugins: ['./greeter'] }));
    const r = await slipway(
      ['build', app, '--env', 'WHO=world', '--cache-dir', join(root, 'cache-config')],
      project,
    );
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('-----> Greeter app detected');
    expect(r.stdout).to.include('       greeted world');
  });

  it('refuses a -b that is neither an id, a path, a package nor a git URL', async () => {
    const r = await slipway(['build', app, '-b', './no/such/dir'], root);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include('(SLIPWAY_ERR_BUILDPACK_RESOLVE)');
  });

  // Issue 11 (10): `slipway build` had no unpacked-size limit, and checking an archive held it
  // all in memory (a 1.1 MB upload that unpacks to 1.1 GB took 1.26 GB RSS).
  it('refuses an archive that unpacks past 1 GB, with a coded error and bounded memory', async function () {
    this.timeout(300_000);
    const src = join(root, 'bomb-src');
    await mkdir(src);
    await new Promise<void>((resolve, reject) =>
      execFile('truncate', ['-s', '1100M', join(src, 'zeros')], (e) => (e ? reject(e) : resolve())),
    );
    const bomb = join(root, 'bomb.tgz');
    await new Promise<void>((resolve, reject) =>
      execFile('tar', ['-czf', bomb, '-C', src, '.'], (e) => (e ? reject(e) : resolve())),
    );
    await rm(src, { recursive: true });
    const child = spawn(process.execPath, [BIN, 'build', bomb, '-b', bp, '-o', join(root, 'bomb-slug.tgz')], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.stdout.resume();
    let peakKb = 0;
    const sample = setInterval(async () => {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
      peakKb = Math.max(peakKb, Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0));
    }, 50);
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    clearInterval(sample);
    console.log(
      `      1.1 GB bomb (${Math.round((await stat(bomb)).size / 1024)} kB): CLI peak RSS ${Math.round(peakKb / 1024)} MB`,
    );
    expect(code).to.equal(1);
    expect(stderr).to.match(/unpacks to more than 1073741824 bytes/);
    expect(stderr).to.not.match(/\n\s+at .+:\d+:\d+/);
    expect(peakKb * 1024, `peak RSS ${Math.round(peakKb / 1024)} MB`).to.be.below(300 << 20);
    expect(existsSync(join(root, 'bomb-slug.tgz'))).to.equal(false);
  });
});
