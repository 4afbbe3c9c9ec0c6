// Benchmark of the local dyno runtime: start 100 small web dynos through the DynoManager
// (each must accept connections on $PORT: the real boot check), then measure the
// supervisor's CPU and memory at idle with them running, and stop them all.
// Also times unpacking a slug, to show why slugs are unpacked once per release, not per dyno.
// Usage: npx tsc -b packages/runtime && node bench/runtime/dynos.mjs [dynos=100] [idleSeconds=10]
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DynoManager, LocalDynoRuntime, LogHub } from '@slipway/runtime';
import { c as tarCreate, x as untar } from 'tar';

const execFileP = promisify(execFile);
const N = Number(process.argv[2] ?? 100);
const IDLE_S = Number(process.argv[3] ?? 10);
const app = fileURLToPath(new URL('../../packages/runtime/test/fixtures/dyno-app', import.meta.url));
const ts = fileURLToPath(new URL('../../node_modules/typescript', import.meta.url));

/** A minimal SlugStore over files named by checksum (the runtime's own store is internal). */
function store(dir) {
  const path = (ref) => join(dir, `${ref.checksum.slice(7)}.tgz`);
  return {
    async put(file) {
      const h = createHash('sha256');
      await pipeline(createReadStream(file), h);
      const ref = { checksum: `sha256:${h.digest('hex')}`, size: (await stat(file)).size };
      await cp(file, path(ref));
      return ref;
    },
    open: (ref) => createReadStream(path(ref)),
    path,
    remove: (ref) => rm(path(ref), { force: true }),
  };
}

async function pack(srcDir, file) {
  await tarCreate({ gzip: true, cwd: srcDir, file, portable: true }, ['.']);
  return file;
}

const ms = (t) => `${(performance.now() - t).toFixed(0)} ms`;
const data = await mkdtemp(join(tmpdir(), 'slipway-bench-'));
await chmod(data, 0o755);
try {
  const slugs = store(join(data, 'store'));
  await mkdir(join(data, 'store'));

  // 1. Unpack cost: the fixture slug, and one with a 23 MB dependency (typescript) inside.
  const big = join(data, 'big-src');
  await cp(app, big, { recursive: true });
  await cp(ts, join(big, 'node_modules', 'typescript'), { recursive: true });
  for (const [name, src] of [
    ['fixture app', app],
    ['app + typescript (23 MB)', big],
  ]) {
    const file = await pack(src, join(data, `${name.length}.tgz`));
    const size = (await stat(file)).size;
    // The runtime unpacks with GNU tar; node-tar is the in-process baseline it replaced.
    const timed = async (how, extract) => {
      const out = join(data, `unpack-${name.length}-${how}`);
      await mkdir(out);
      const t = performance.now();
      await extract(out);
      return performance.now() - t;
    };
    const nodeTar = await timed('node-tar', (out) => untar({ file, cwd: out }));
    const one = await timed('gnu-tar', (out) =>
      execFileP('tar', ['-xzf', file, '-C', out, '--no-same-owner']),
    );
    console.log(
      `unpack ${name} (${(size / 1e6).toFixed(1)} MB tgz): GNU tar ${one.toFixed(0)} ms, node-tar ` +
        `${nodeTar.toFixed(0)} ms (${(nodeTar / one).toFixed(1)}x); per-dyno copies for ${N} dynos ` +
        `would cost ~${((one * N) / 1000).toFixed(1)} s of unpacking`,
    );
  }

  // 2. Start N web dynos through the manager (boot check included).
  const ref = await slugs.put(await pack(app, join(data, 'app.tgz')));
  const runtime = new LocalDynoRuntime({ dataDir: join(data, 'platform'), slugStore: slugs });
  const logs = new LogHub();
  const manager = new DynoManager({ runtime, log: logs, stopGraceMs: 5000 });
  await runtime.init();
  const cpu0 = process.cpuUsage();
  let t = performance.now();
  await manager.apply('bench', {
    release: 1,
    slug: ref,
    env: { RELEASE_TAG: 'v1' },
    processTypes: { web: 'node server.js' },
    formation: { web: { quantity: N, size: 'standard-1x' } },
  });
  const startMs = performance.now() - t;
  const up = manager.status('bench').filter((d) => d.state === 'up').length;
  const cpuStart = process.cpuUsage(cpu0);
  console.log(
    `started ${up}/${N} web dynos (bound $PORT, routed) in ${(startMs / 1000).toFixed(2)} s ` +
      `[target <= 10 s] on ${cpus().length} CPUs, memory limits: ${runtime.mechanism}; ` +
      `supervisor CPU during start ${((cpuStart.user + cpuStart.system) / 1000).toFixed(0)} ms`,
  );

  // 3. Idle: supervisor CPU and memory with N dynos running (memory sampled every 5 s).
  global.gc?.();
  const idle0 = process.cpuUsage();
  const wall0 = performance.now();
  await new Promise((r) => setTimeout(r, IDLE_S * 1000));
  const idle = process.cpuUsage(idle0);
  const wall = performance.now() - wall0;
  const mem = process.memoryUsage();
  console.log(
    `idle ${IDLE_S} s with ${up} dynos: supervisor CPU ${(((idle.user + idle.system) / 1000 / wall) * 100).toFixed(2)}% ` +
      `of one core; RSS ${(mem.rss / 1048576).toFixed(0)} MB, heap used ${(mem.heapUsed / 1048576).toFixed(0)} MB`,
  );

  // 4. Stop all.
  t = performance.now();
  await manager.stopApp('bench');
  console.log(`stopped ${N} dynos (SIGTERM, drained) in ${ms(t)}`);
  await manager.close();
  await runtime.close();
} finally {
  await rm(data, { recursive: true, force: true });
}
