/**
 * The Docker dyno runtime against a real engine and the real stack image: Heroku's filesystem
 * (`/app` writable, `HOME=/app`, cwd `/app`, the app's uid, no Docker socket), one-off dynos
 * attached through the engine (TTY size, resize, stdin, exit code), R12 after the SIGTERM
 * grace, R15 and a restart over twice the memory quota, and the pids limit against a fork bomb
 * while another dyno keeps serving.
 */
import { readFile } from 'node:fs/promises';
import type { DynoHandle, DynoSpec, LogLine, SlugRef } from '@slipway/core';
import { expect } from 'chai';
import type { FsSlugStore } from '../state/fs-slug-store.js';
import { DockerDynoRuntime } from './docker-runtime.js';
import { dynoGet, removePlatformContainers, requireDocker } from './docker-test-kit.test-helper.js';
import { DynoManager } from './dyno-manager.js';
import type { DynoExit } from './dyno-process.js';
import { FIXTURE_TYPES, MemoryLog, packSlug, tempDataDir, waitFor } from './dyno-test-kit.test-helper.js';
import { createDynoRuntime } from './runtime-choice.js';

const size = { name: 'standard-1x', memoryMb: 512 };

describe('docker dyno runtime (real engine, stack image)', function () {
  this.timeout(180_000);
  let data: Awaited<ReturnType<typeof tempDataDir>>;
  let store: FsSlugStore;
  let slug: SlugRef;
  let rt: DockerDynoRuntime;
  const exits: [DynoHandle, DynoExit][] = [];
  const spec = (type: keyof typeof FIXTURE_TYPES, env: Record<string, string> = {}): DynoSpec => ({
    app: 'dk',
    release: 1,
    type,
    index: 1,
    command: FIXTURE_TYPES[type],
    env,
    size,
    slug,
  });

  before(async function () {
    await requireDocker(this, 'docker dyno runtime');
    data = await tempDataDir('slipway-docker-');
    ({ store, slug } = await packSlug(data.dir));
    rt = await DockerDynoRuntime.create({ dataDir: data.dir, slugStore: store, memoryPollMs: 500 });
    rt.on('exit', (h: DynoHandle, _c, _s, info: DynoExit) => exits.push([h, info]));
  });
  after(async () => {
    await rt?.close(0);
    if (data) await removePlatformContainers(data.dir);
    await data?.cleanup();
  });

  it('refuses to start without the stack image, or with an unknown runtime name, with coded errors', async () => {
    const e = await DockerDynoRuntime.create({
      dataDir: data.dir,
      slugStore: store,
      stack: 'no-such-stack',
    }).catch((x) => x);
    expect(e.code).to.equal('SLIPWAY_ERR_STACK_NO_IMAGE');
    expect(e.hint).to.match(/stack:build no-such-stack/);
    const bad = await createDynoRuntime({
      name: 'kubernetes' as never,
      dataDir: data.dir,
      slugStore: store,
    }).catch((x) => x);
    expect(bad.code).to.equal('SLIPWAY_ERR_STACK_RUNTIME');
  });

  it('runs a web dyno with Heroku filesystem: /app writable, HOME=/app, cwd /app, the app uid', async () => {
    const h = await rt.start(spec('web'));
    expect(h.host).to.match(/^\d+\.\d+\.\d+\.\d+$/);
    const body = await waitFor('the web dyno to answer', () => dynoGet(h, '/env'), 30_000, 100);
    const env = JSON.parse(body);
    expect(env).to.include({
      DYNO: 'web.1',
      HOME: '/app',
      cwd: '/app',
      canWriteApp: true,
      PORT: String(h.port),
    });
    expect(env.uid)
      .to.equal(await rt.uidFor('dk'))
      .and.not.equal(0);
    await rt.stop(h, 5000);
    const [, info] = exits.find(([x]) => x.id === h.id)!;
    expect(info.reason).to.equal(undefined);
    expect(info.status).to.equal(0);
  });

  it('attaches a one-off through the engine: TTY size, resize, stdin, exit code; no Docker socket', async () => {
    const s = await rt.runOnce({
      ...spec('web'),
      type: 'run',
      attach: true,
      tty: { columns: 100, rows: 30 },
      command:
        'stty size; read a; stty size; echo "got:$a"; test -e /var/run/docker.sock && echo SOCKET; exit 7',
    });
    let out = '';
    s.stdout.on('data', (c: Buffer) => (out += c.toString()));
    await waitFor('the first stty size', () => /30 100/.test(out), 20_000).catch((e) => {
      throw new Error(`${e.message}; output so far: ${JSON.stringify(out)}`);
    });
    s.resize?.(120, 40);
    await new Promise((r) => setTimeout(r, 300));
    s.stdin?.write('hello\n');
    expect(await s.exited).to.equal(7);
    expect(out)
      .to.match(/40 120/)
      .and.match(/got:hello/);
    expect(out).not.to.match(/SOCKET/);
  });

  it('kills a dyno that ignores SIGTERM after the grace (R12)', async () => {
    const h = await rt.start({ ...spec('stubborn'), port: 8080 });
    await waitFor('the stubborn dyno to answer', () => dynoGet(h), 30_000, 100);
    const t0 = Date.now();
    await rt.stop(h, 1500);
    expect(Date.now() - t0).to.be.at.least(1400);
    const [, info] = exits.find(([x]) => x.id === h.id)!;
    expect(info).to.include({ reason: 'stop-timeout', status: 137 });
  });

  it('kills a dyno over twice its quota (R15) and the manager restarts it', async () => {
    const log = new MemoryLog();
    const manager = new DynoManager({
      runtime: rt,
      log,
      sizes: { tiny: 64 },
      stopGraceMs: 1000,
      backoff: { immediate: 5 },
    });
    try {
      await manager.apply('dk', {
        release: 1,
        slug,
        env: { HOG_MB: '400' },
        processTypes: { hog: FIXTURE_TYPES.hog },
        formation: { hog: { quantity: 1, size: 'tiny' } },
      });
      const msgs = () => log.lines.filter((l: LogLine) => l.dyno === 'hog.1').map((l) => l.message);
      await waitFor('R15', () => msgs().some((m) => /Error R15/.test(m)), 60_000, 200);
      await waitFor(
        'a restart',
        () => msgs().filter((m) => /Starting process/.test(m)).length >= 2,
        30_000,
        200,
      );
    } finally {
      await manager.close();
    }
  });

  it('logs a dyno printing without newlines in bounded pieces, as it prints', async () => {
    const pieces: string[] = [];
    const onOutput = (h: DynoHandle, line: string) => {
      if (h.type === 'flood') pieces.push(line);
    };
    rt.on('output', onOutput);
    // 3 MB and no newline, then the dyno stays up: a reader holding whole lines gets nothing.
    const h = await rt.start({
      ...spec('worker'),
      type: 'flood',
      command: "head -c 3000000 /dev/zero | tr '\\0' x; sleep 120",
    });
    try {
      await waitFor('pieces of the long line', () => pieces.length >= 250, 60_000, 100);
      expect(Math.max(...pieces.map((p) => Buffer.byteLength(p)))).to.be.at.most(10_000);
      expect(pieces.every((p) => /^x+$/.test(p))).to.equal(true);
    } finally {
      rt.off('output', onOutput);
      await rt.stop(h, 0);
    }
  });

  it('stops a fork bomb at the pids limit while another dyno keeps serving', async () => {
    const web = await rt.start({ ...spec('web'), index: 2 });
    await waitFor('the web dyno to answer', () => dynoGet(web), 30_000, 100);
    const s = await rt.runOnce({
      ...spec('web'),
      type: 'run',
      attach: true,
      // The sleeper starts before the bomb: once the bomb holds every pid, nothing else can fork.
      command:
        'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null; sleep 6 & s=$!; b(){ b|b& }; b 2>/dev/null; wait $s; echo bomb-over',
    });
    let out = '';
    s.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const served: (string | undefined)[] = [];
    let most = 0;
    const poll = (async () => {
      while (!/bomb-over/.test(out) && served.length < 200) {
        served.push(await dynoGet(web));
        const n = await readFile(`/sys/fs/cgroup/pids/docker/${s.handle.id}/pids.current`, 'utf8').catch(
          () => '0',
        );
        most = Math.max(most, Number(n));
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    await s.exited;
    await poll;
    expect(out).to.match(/bomb-over/);
    if (/^\d+/.test(out)) expect(Number.parseInt(out, 10)).to.equal(256);
    // Where the host shows the container's pids cgroup (v1), the bomb filled it and no more.
    if (most > 0) expect(most).to.be.within(200, 256);
    expect(served.length).to.be.greaterThan(3);
    expect(served.filter((b) => b === undefined)).to.deep.equal([]);
    await rt.stop(web, 5000);
  });
});
