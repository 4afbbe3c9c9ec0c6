// biome-ignore-all lint/suspicious/noTemplateCurlyInString: shell scripts of a slug
/**
 * The local runtime with `sandbox: true`, on real bubblewrap and the built stack root: what a
 * dyno sees (HOME=/app, a writable and ephemeral /app, its own processes only, no data dir),
 * that the router's side still reaches a web dyno on its port, and that a process flood stops
 * at the dyno's pids limit. Needs bwrap and `slipway stack:build`: required in CI, a loud skip
 * elsewhere.
 */
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DynoHandle, SlugRef } from '@slipway/core';
import { expect } from 'chai';
import {
  FIXTURE_APP,
  get,
  isRoot,
  packSlug,
  tempDataDir,
  waitFor,
} from '../dynos/dyno-test-kit.test-helper.js';
import { LocalDynoRuntime } from '../dynos/local-runtime.js';
import type { FsSlugStore } from '../state/fs-slug-store.js';

const size = { name: 'standard-1x', memoryMb: 512 };

describe('LocalDynoRuntime sandboxed (bubblewrap in the stack root)', function () {
  this.timeout(120_000);
  let data: Awaited<ReturnType<typeof tempDataDir>>;
  let store: FsSlugStore;
  let slug: SlugRef;
  let rt: LocalDynoRuntime;

  before(async function () {
    data = await tempDataDir('slipway-sandbox-');
    ({ store, slug } = await packSlug(data.dir));
    rt = new LocalDynoRuntime({ dataDir: data.dir, slugStore: store, sandbox: true });
    await rt.init();
    if (!rt.sandbox) {
      if (process.env.CI === 'true') throw new Error(`CI must sandbox dynos: ${rt.warnings.join('; ')}`);
      console.warn(`      ⚠ sandbox unavailable, skipped: ${rt.warnings.join('; ')}`);
      this.skip();
    }
  });
  after(async () => {
    await rt?.close(1000);
    await data?.cleanup();
  });

  const spec = (command: string, app = 'sb-app') => ({
    app,
    release: 1,
    type: 'run',
    index: 1,
    command,
    env: {},
    size,
    slug,
  });
  /** Run a one-off to its end: exit status and stdout. */
  const run = async (command: string, app?: string, from = slug) => {
    const s = await rt.runOnce({ ...spec(command, app), slug: from, attach: true });
    let out = '';
    s.stdout.on('data', (c) => {
      out += c;
    });
    s.stderr?.on('data', (c) => {
      out += c;
    });
    const code = await s.exited;
    return { code, out: out.trim() };
  };

  it('serves a web dyno on its port from /app with HOME=/app, .profile.d sourced, as the app uid', async () => {
    const h: DynoHandle = await rt.start({ ...spec('node server.js'), type: 'web' });
    await waitFor('web.1 to bind', () => get(h.port!, '/').catch(() => undefined));
    const env = JSON.parse((await get(h.port!, '/env')).body);
    expect(env).to.include({ HOME: '/app', cwd: '/app', PROFILE_VAR: 'from-profile', canWriteApp: true });
    if (isRoot) expect(env.uid).to.be.above(0);
    await rt.stop(h, 5000);
  });

  it('runs a classic buildpack\'s `export PATH="$HOME/bin:$PATH"` and the scaffold\'s $HOME profile', async () => {
    // A slug as a classic buildpack leaves it: tools in bin/, .profile.d naming them through $HOME.
    const app = join(data.dir, 'classic');
    await cp(FIXTURE_APP, app, { recursive: true });
    await mkdir(join(app, 'bin'));
    await writeFile(join(app, 'bin', 'greet'), '#!/bin/sh\necho "hello from $HOME/bin"\n', { mode: 0o755 });
    await writeFile(join(app, '.profile.d', 'classic.sh'), 'export PATH="$HOME/bin:$PATH"\n');
    // The README's scaffolded buildpack: its static server serves $STATIC_ROOT, the app dir.
    await writeFile(join(app, '.profile.d', 'static.sh'), 'export STATIC_ROOT="${STATIC_ROOT:-$HOME}"\n');
    const { slug: classic } = await packSlug(data.dir, app);
    const r = await run('greet; echo "$STATIC_ROOT"; ls "$STATIC_ROOT/server.js"', 'sb-classic', classic);
    expect(r).to.deep.equal({ code: 0, out: 'hello from /app/bin\n/app\n/app/server.js' });
  });

  it('gives each dyno a writable /app that is gone after a restart, and a private /tmp', async () => {
    const first = await run(
      'echo kept > /app/new.txt && echo more >> /app/server.js && echo t > /tmp/t && cat /app/new.txt',
    );
    expect(first).to.deep.equal({ code: 0, out: 'kept' });
    const second = await run('ls /app/new.txt /tmp/t 2>&1; grep -c more /app/server.js; echo "$HOME $PWD"');
    expect(second.out).to.match(/No such file.*\n.*No such file/);
    expect(second.out).to.match(/\n0\n\/app \/app$/);
  });

  it('shows a dyno its own processes only, and none of the host', async () => {
    const r = await run('sleep 5 & ls /proc | grep -c "^[0-9]"; cat /proc/[0-9]*/cmdline | tr "\\0" " "');
    expect(r.code).to.equal(0);
    const [count, ...cmdlines] = r.out.split('\n');
    // bwrap's init, bash, sleep, ls and grep/cat: a handful, never the host's hundreds.
    expect(Number(count)).to.be.within(2, 8);
    expect(cmdlines.join(' ')).not.to.match(/mocha|systemd|sshd|dockerd/);
  });

  it('cannot reach the data dir, the stack cache or the host root', async () => {
    const r = await run(
      `ls ${data.dir} 2>&1; ls /var/cache/slipway 2>&1; ls /root 2>&1; test -e /usr/bin/apt && echo stack-has-apt; cat /etc/os-release | grep VERSION_CODENAME`,
    );
    expect(r.out).to.include(`ls: cannot access '${data.dir}': No such file or directory`);
    expect(r.out).to.include("ls: cannot access '/var/cache/slipway': No such file or directory");
    expect(r.out).to.match(/VERSION_CODENAME=trixie/);
  });

  it('stops a fork bomb at the pids limit and keeps starting dynos', async () => {
    const bomb = await run(
      // Counted with builtins only: at the limit, nothing more can fork.
      'bomb() { bomb | bomb & }; ( bomb ) 2>/dev/null; read -t 3 <> <(:); n=0; for p in /proc/[0-9]*; do n=$((n+1)); done; kill -9 -1 2>/dev/null; echo $n',
      'sb-bomb',
    );
    // The PID namespace's table: bounded by the dyno's pids limit (256 for standard-1X).
    expect(Number(bomb.out.split('\n').pop()), bomb.out).to.be.within(1, 256);
    expect(await run('echo alive')).to.deep.equal({ code: 0, out: 'alive' });
  });
});
