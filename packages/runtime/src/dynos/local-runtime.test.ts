import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DynoHandle, SlugRef } from '@slipway/core';
import { expect } from 'chai';
import { defaultUidBase } from '../isolation/app-users.js';
import type { FsSlugStore } from '../state/fs-slug-store.js';
import type { DynoExit } from './dyno-process.js';
import { FIXTURE_TYPES, get, isRoot, packSlug, tempDataDir, waitFor } from './dyno-test-kit.test-helper.js';
import { LocalDynoRuntime } from './local-runtime.js';

const size = { name: 'standard-1x', memoryMb: 512 };

/** Switching users needs root: required in CI, a loud skip elsewhere. */
function notRoot(what: string): void {
  if (process.env.CI === 'true') throw new Error(`CI must run the runtime tests as root: ${what} needs it`);
  console.warn(`      ⚠ not root: ${what} skipped (dynos run as the platform user)`);
}

describe('LocalDynoRuntime (real processes)', function () {
  this.timeout(60_000);
  let data: Awaited<ReturnType<typeof tempDataDir>>;
  let store: FsSlugStore;
  let slug: SlugRef;
  let rt: LocalDynoRuntime;
  const exits: [DynoHandle, DynoExit][] = [];
  const output: [DynoHandle, string][] = [];

  before(async () => {
    data = await tempDataDir();
    ({ store, slug } = await packSlug(data.dir));
    rt = new LocalDynoRuntime({ dataDir: data.dir, slugStore: store, memoryPollMs: 100 });
    rt.on('exit', (h: DynoHandle, _c, _s, info: DynoExit) => exits.push([h, info]));
    rt.on('output', (h: DynoHandle, line: string) => output.push([h, line]));
  });
  after(async () => {
    await rt?.close(1000);
    await data?.cleanup();
  });

  const spec = (type: keyof typeof FIXTURE_TYPES, index = 1, env: Record<string, string> = {}) => ({
    app: 'rt-app',
    release: 1,
    type,
    index,
    command: FIXTURE_TYPES[type],
    env,
    size,
    slug,
  });
  const exitOf = (h: DynoHandle) => waitFor(`exit of ${h.id}`, () => exits.find(([x]) => x.id === h.id)?.[1]);

  it('starts a web dyno with PORT, DYNO, config vars and .profile.d, as an unprivileged user', async () => {
    const h = await rt.start({
      ...spec('web', 1, { GREETING: 'hi', PROFILE_VAR: 'from-config' }),
      type: 'web',
    });
    expect(h.port).to.be.a('number');
    await waitFor('web.1 to bind', () => get(h.port!, '/').catch(() => undefined));
    const env = JSON.parse((await get(h.port!, '/env')).body);
    expect(env).to.include({
      DYNO: 'web.1',
      PORT: String(h.port),
      GREETING: 'hi',
      PROFILE_VAR: 'from-config',
    });
    // Each dyno has its own writable HOME; the shared slug copy is not writable by the dyno user.
    expect(env.HOME).to.match(/\/dynos\/rt-app\.web\.1\.[0-9a-f]+\/home$/);
    if (isRoot) {
      // The app's own uid (the first of the data dir's block), not the platform's nor `nobody`.
      expect(env.uid).to.equal(defaultUidBase(data.dir));
      expect(env.canWriteApp).to.equal(false);
    } else notRoot('the per-app user check');
    expect(output.some(([x, l]) => x.id === h.id && l === `listening on ${h.port}`)).to.equal(true);
    const list = await rt.list('rt-app');
    expect(list.map((d) => d.id)).to.include(h.id);
    await rt.stop(h, 5000);
    const exit = await exitOf(h);
    expect(exit.status).to.equal(0); // the fixture drains and exits 0 on SIGTERM
    expect(exit.reason).to.equal(undefined);
    expect(existsSync(env.HOME)).to.equal(false);
  });

  it('sources .profile.d defaults when no config var overrides them', async () => {
    const s = await rt.runOnce({
      ...spec('web'),
      type: 'run',
      command: 'echo "$PROFILE_VAR $DYNO"',
      attach: true,
    });
    let out = '';
    s.stdout.on('data', (c) => {
      out += c;
    });
    expect(await s.exited).to.equal(0);
    expect(out.trim()).to.match(/^from-profile run\.\d{4}$/);
  });

  it('SIGKILLs a dyno that ignores SIGTERM after the grace period (stop-timeout)', async () => {
    const h = await rt.start({ ...spec('stubborn'), type: 'web' });
    await waitFor('stubborn to bind', () => get(h.port!, '/').catch(() => undefined));
    const t0 = Date.now();
    await rt.stop(h, 700);
    const took = Date.now() - t0;
    const exit = await exitOf(h);
    expect(exit).to.include({ status: 137, signal: 'SIGKILL', reason: 'stop-timeout' });
    expect(took).to.be.within(650, 5000);
    expect(output.some(([x, l]) => x.id === h.id && l === 'ignoring SIGTERM')).to.equal(true);
  });

  it('reports a crash with its exit status and kills what the dyno left behind', async () => {
    const h = await rt.start({ ...spec('web'), command: 'sleep 60 & node crash.js' });
    const exit = await exitOf(h);
    expect(exit.status).to.equal(3);
    expect(exit.reason).to.equal(undefined);
  });

  it('returns one-off exit codes: code, 128+signal, and runs detached output to events', async () => {
    const seven = await rt.runOnce({ ...spec('web'), type: 'run', command: 'exit 7', attach: false });
    expect(seven.handle.type).to.equal('run');
    expect(await seven.exited).to.equal(7);
    const term = await rt.runOnce({
      ...spec('web'),
      type: 'run',
      command: 'kill -TERM $$; sleep 5',
      attach: false,
    });
    expect(await term.exited).to.equal(143);
    const killed = await rt.runOnce({ ...spec('web'), type: 'run', command: 'sleep 30', attach: false });
    setTimeout(() => killed.kill('SIGKILL'), 100);
    expect(await killed.exited).to.equal(137);
    const logged = await rt.runOnce({
      ...spec('web'),
      type: 'run',
      command: 'echo detached says hi',
      attach: false,
    });
    expect(await logged.exited).to.equal(0);
    await waitFor('detached output', () =>
      output.some(([h, l]) => h.id === logged.handle.id && l === 'detached says hi'),
    );
  });

  it('attaches stdin/stdout, and a pseudo-terminal through script when asked', async () => {
    const cat = await rt.runOnce({ ...spec('web'), type: 'run', command: 'cat; echo done', attach: true });
    let out = '';
    cat.stdout.on('data', (c) => {
      out += c;
    });
    cat.stdin!.write('hello dyno\n');
    cat.stdin!.end();
    expect(await cat.exited).to.equal(0);
    expect(out).to.equal('hello dyno\ndone\n');

    const tty = await rt.runOnce({
      ...spec('web'),
      type: 'run',
      command: 'tty; stty size; exit 4',
      attach: true,
      tty: { columns: 91, rows: 27 },
    });
    let tout = '';
    tty.stdout.on('data', (c) => {
      tout += c;
    });
    // stdin stays open, as a terminal's would: `script` may drop output once its input ends.
    expect(await tty.exited).to.equal(4);
    tty.stdin!.end();
    expect(tout).to.match(/\/dev\/pts\/\d+/);
    expect(tout).to.include('27 91');
  });

  it('hangs up an attached one-off that stays idle (SIGHUP → 129)', async () => {
    const s = await rt.runOnce({
      ...spec('web'),
      type: 'run',
      command: 'sleep 20',
      attach: true,
      idleTimeoutMs: 300,
    });
    const t0 = Date.now();
    expect(await s.exited).to.equal(129);
    expect(Date.now() - t0).to.be.within(250, 5000);
  });

  it('enforces the memory limit of the dyno size with a real allocating process (R15 at 2x)', async () => {
    const before = exits.length;
    // 64 MB quota: the kernel (cgroup) or the poller must kill at 128 MB; the hog wants 512 MB.
    const h = await rt.start({
      ...spec('hog', 1, { HOG_MB: '512' }),
      type: 'worker',
      size: { name: 'tiny', memoryMb: 64 },
    });
    const memory: number[] = [];
    rt.on('memory', (x: DynoHandle, used: number) => x.id === h.id && memory.push(used));
    const exit = await exitOf(h);
    expect(exits.length).to.be.greaterThan(before);
    expect(exit.reason, `mechanism ${rt.mechanism}`).to.equal('memory');
    expect(exit.status).to.equal(137);
    const allocated = output.filter(([x]) => x.id === h.id).map(([, l]) => l);
    expect(allocated.length).to.be.lessThan(10); // never got near 512 MB (16 MB steps)
    console.log(`      memory mechanism: ${rt.mechanism}; last allocation line: ${allocated.at(-1)}`);
  });

  it('falls back to polling RSS from /proc and kills above 2x the quota', async () => {
    const poll = new LocalDynoRuntime({
      dataDir: data.dir,
      slugStore: store,
      memory: 'poll',
      memoryPollMs: 50,
    });
    const got: DynoExit[] = [];
    poll.on('exit', (_h, _c, _s, info: DynoExit) => got.push(info));
    await poll.start({
      ...spec('hog', 1, { HOG_MB: '512' }),
      type: 'worker',
      size: { name: 'tiny', memoryMb: 64 },
    });
    const exit = await waitFor('poll kill', () => got[0]);
    expect(exit).to.include({ reason: 'memory', status: 137 });
    await poll.close();
  });

  it('gives each app its own uid with runAsUser: { uidBase }, kept across restarts', async function () {
    if (!isRoot) {
      notRoot('per-app uids');
      return this.skip();
    }
    const iso = new LocalDynoRuntime({ dataDir: data.dir, slugStore: store, runAsUser: { uidBase: 300000 } });
    const uidOf = async (app: string) => {
      const s = await iso.runOnce({ ...spec('web'), app, type: 'run', command: 'id -u', attach: true });
      let out = '';
      s.stdout.on('data', (c) => {
        out += c;
      });
      await s.exited;
      return Number(out.split('\n')[0]);
    };
    const a = await uidOf('app-a');
    const b = await uidOf('app-b');
    expect([a, b]).to.deep.equal([300000, 300001]);
    expect(await uidOf('app-a')).to.equal(300000);
    // Another app's dyno cannot be signalled (EPERM) nor its environment read.
    const victim = await iso.start({ ...spec('worker'), app: 'app-a', type: 'worker' });
    const probe = await iso.runOnce({
      ...spec('web'),
      app: 'app-b',
      type: 'run',
      command: [
        'p=none; for d in /proc/[0-9]*; do [ "$(stat -c %u "$d" 2>/dev/null)" = 300000 ] && { p=$(basename "$d"); break; }; done',
        'echo "found $p"',
        'kill -0 "$p" 2>/dev/null && echo can-signal',
        'cat "/proc/$p/environ" >/dev/null 2>&1 && echo can-read',
        'true',
      ].join('; '),
      attach: true,
    });
    let pout = '';
    probe.stdout.on('data', (c) => {
      pout += c;
    });
    await probe.exited;
    expect(pout.trim()).to.match(/^found \d+$/);
    await iso.stop(victim, 1000);
    const again = new LocalDynoRuntime({
      dataDir: data.dir,
      slugStore: store,
      runAsUser: { uidBase: 300000 },
    });
    const s = await again.runOnce({
      ...spec('web'),
      app: 'app-b',
      type: 'run',
      command: 'id -u',
      attach: true,
    });
    let out = '';
    s.stdout.on('data', (c) => {
      out += c;
    });
    await s.exited;
    expect(Number(out)).to.equal(300001);
    await again.close();
    await iso.close();
  });

  for (const pids of ['auto', 'nproc'] as const)
    it(`stops a process flood at the dyno's limit (pids: ${pids}${pids === 'auto' ? ', with a TTY' : ''})`, async function () {
      if (!isRoot) {
        notRoot('pids limits per app uid');
        return this.skip();
      }
      const limited = new LocalDynoRuntime({ dataDir: data.dir, slugStore: store, pids });
      const flood = [
        "const { spawn } = require('node:child_process');",
        "const kids = []; let err = '';",
        '(async () => { for (let i = 0; i < 1000 && !err; i++) {',
        "  const c = spawn('sleep', ['30'], { stdio: 'ignore' });",
        "  await new Promise((r) => { c.once('spawn', r); c.once('error', (e) => { err = e.code; r(); }); });",
        '  if (!err) kids.push(c); }',
        "  for (const c of kids) c.kill('SIGKILL'); console.log(kids.length + ' ' + err); })();",
      ].join(' ');
      const s = await limited.runOnce({
        ...spec('web'),
        app: `flood-${pids}`,
        type: 'run',
        command: `node -e ${JSON.stringify(flood)}`,
        attach: true,
        // Under a pseudo-terminal too (`script`): what it forks is inside the dyno's cgroup.
        ...(pids === 'auto' ? { tty: { columns: 80, rows: 24 } } : {}),
      });
      let out = '';
      s.stdout.on('data', (c) => {
        out += c;
      });
      await s.exited;
      await limited.close(1000);
      const [count, code] = `${out.trim()} (no output)`.split(' ');
      expect(code, out).to.equal('EAGAIN');
      expect(Number(count)).to.be.within(1, 255);
      if (pids === 'auto') expect(limited.pidsMechanism).to.match(/^cgroup/);
    });

  it('unpacks a slug once for all its dynos and deletes it once no dyno used it for slugIdleMs', async () => {
    const own = await tempDataDir();
    const { store: s2, slug: ref } = await packSlug(own.dir);
    const gc = new LocalDynoRuntime({ dataDir: own.dir, slugStore: s2, slugIdleMs: 300 });
    try {
      const slugsDir = join(own.dir, 'run', 'apps', 'gc', 'slugs');
      const unpacked = join(slugsDir, ref.checksum.slice('sha256:'.length));
      const dynos = await Promise.all(
        [1, 2, 3].map((i) => gc.start({ ...spec('worker', i), slug: ref, app: 'gc', type: 'worker' })),
      );
      expect(existsSync(unpacked)).to.equal(true);
      expect(readdirSync(slugsDir).filter((n) => !n.startsWith('.'))).to.have.length(1);
      await gc.stop(dynos[0]!, 1000);
      await new Promise((r) => setTimeout(r, 500));
      expect(existsSync(unpacked), 'still used by two dynos').to.equal(true);
      await Promise.all(dynos.slice(1).map((d) => gc.stop(d, 1000)));
      await waitFor('unpacked slug deleted', () => !existsSync(unpacked), 5000);
      // A later dyno unpacks it again.
      const again = await gc.start({ ...spec('worker'), slug: ref, app: 'gc', type: 'worker' });
      expect(existsSync(unpacked)).to.equal(true);
      await gc.stop(again, 1000);
      await gc.close(1000);
      // A restarted platform finds the unpacked slug and a half-finished unpack.
      expect(existsSync(unpacked)).to.equal(true);
      mkdirSync(join(slugsDir, '.abc.tmp'));
      const next = new LocalDynoRuntime({ dataDir: own.dir, slugStore: s2, slugIdleMs: 300 });
      await next.init();
      expect(existsSync(join(slugsDir, '.abc.tmp'))).to.equal(false);
      await waitFor('adopted slug deleted when unused', () => !existsSync(unpacked), 5000);
      await next.close();
    } finally {
      await gc.close(1000);
      await own.cleanup();
    }
  });

  it('kills the dynos of an earlier platform process found in the data dir', async () => {
    const first = await rt.start({ ...spec('web'), type: 'web' });
    await waitFor('web to bind', () => get(first.port!, '/').catch(() => undefined));
    // A second runtime on the same data dir plays the restarted platform.
    const next = new LocalDynoRuntime({ dataDir: data.dir, slugStore: store });
    await next.init();
    await waitFor('old dyno to be gone', () =>
      get(first.port!, '/').then(
        () => false,
        () => true,
      ),
    );
    expect(await next.list()).to.deep.equal([]);
    await next.close();
  });
});
