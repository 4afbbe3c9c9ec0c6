// Builds on the host against builds in the stack's build root (bubblewrap), side by side, for the
// Node.js and Python examples, through the platform's build worker (runBuildInWorker, as a
// `git push` runs it): a cold build (empty cache, a worker started for it), a warm rebuild
// (same cache, nothing changed) on a worker started for it as before pre-started workers, and
// one on the worker the platform pre-started after the previous build (build-worker-pool.ts;
// started once that worker is up, as the next push comes a while after a build), rounds
// interleaved, medians reported with the machine's load. Each round also runs the raw package
// manager commands on the host (bench/buildpacks/steps.mjs `raw`: npm ci/build/prune, pip install,
// fresh caches, after one uncounted warm-up run) for the build overhead over them.
//
// With --runtimes, instead: what a runtime version pinned by the app costs in the stack (Node.js
// 22 by engines.node, from the npm registry; Python 3.13 by .python-version and JDK 21 by
// system.properties, unpacked from the build root's Debian packages into the slug; Go 1.25 by
// `// +heroku goVersion`, from the Go module proxy) against the example as it is (the platform's
// Node.js, also in the slug; Python 3.11, JDK 17 and Go from the root): per round, a cold build
// (empty cache: download + unpack) and a warm rebuild on a fresh worker, in the stack.
//
//   node bench/runtime/stack-builds.mjs [--rounds 3] [--only node,python]
//   node bench/runtime/stack-builds.mjs --runtimes [--rounds 2] [--only node,python,java,go] [--log]
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_STACK } from '@slipway/core';
import { BuildWorkerPool, openStackBuilds, runBuildInWorker } from '@slipway/runtime';
import { measure } from '../buildpacks/measure.mjs';
import { ROOT } from './bench-lib.mjs';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string' },
    only: { type: 'string' },
    runtimes: { type: 'boolean' },
    log: { type: 'boolean' },
  },
});
const rounds = Number(values.rounds ?? 3);
const apps = (values.only ?? (values.runtimes ? 'node,python,java,go' : 'node,python')).split(',');
const BUILDPACK = { node: 'nodejs', python: 'python', java: 'java', go: 'go' };
/**
 * What --runtimes pins over the example (which takes the platform's Node.js 20 and Go, Python
 * 3.11, JDK 17): a version that is downloaded, and what the table calls it.
 */
const PIN = {
  node: ['engines.node 22.x', (d) => editFile(join(d, 'package.json'), (t) => t.replace('">=20"', '"22.x"'))],
  python: ['Python 3.13', (d) => writeFile(join(d, '.python-version'), '3.13\n')],
  java: ['JDK 21', (d) => writeFile(join(d, 'system.properties'), 'java.runtime.version=21\n')],
  go: ['Go 1.25', (d) => editFile(join(d, 'go.mod'), (t) => `// +heroku goVersion go1.25\n${t}`)],
};
async function editFile(file, edit) {
  await writeFile(file, edit(await readFile(file, 'utf8')));
}

const dir = await mkdtemp(join(tmpdir(), 'slipway-bench-stack-builds-'));
await chmod(dir, 0o755);
const stackBuilds = await openStackBuilds(DEFAULT_STACK.id, join(dir, 'stubs'));
if (!stackBuilds.sandbox) {
  console.error(`builds in the stack are unavailable: ${stackBuilds.warning}`);
  process.exit(1);
}
const configFile = join(dir, 'slipway.config.json');
await writeFile(
  configFile,
  JSON.stringify({
    defaults: false,
    plugins: apps.map((a) => join(ROOT, 'packages/buildpacks', BUILDPACK[a])),
  }),
);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const pool = new BuildWorkerPool();
let n = 0;
/**
 * One build of `app` on `cache` (host or stack), its wall time in seconds; `warm` 'fresh' starts
 * a worker for it, 'pre-started' takes the one waiting (and every build but 'fresh' leaves one).
 */
async function build(app, where, cache, warm, pin = false) {
  const builds = join(cache, 'builds');
  const work = join(builds, `w${n++}`);
  await mkdir(work, { recursive: true });
  await cp(join(ROOT, 'examples/apps', app), join(work, 'src'), { recursive: true });
  if (pin) await PIN[app][1](join(work, 'src'));
  const env = { PATH: process.env.PATH, HOME: join(cache, 'home'), TMPDIR: work, LANG: 'C.UTF-8' };
  for (const k of ['SSL_CERT_FILE', 'NODE_EXTRA_CA_CERTS', 'PIP_CERT', 'REQUESTS_CA_BUNDLE'])
    if (process.env[k]) env[k] = process.env[k];
  await mkdir(env.HOME, { recursive: true });
  if (warm === 'pre-started') await pool.ready(app);
  const t0 = performance.now();
  await runBuildInWorker(
    {
      recipe: { configFile },
      source: join(work, 'src'),
      app,
      cacheDir: join(cache, 'cache'),
      workDir: work,
      env: {},
      output: join(work, 'slug.tgz'),
      buildpacks: [],
      buildpacksDir: join(cache, 'buildpacks'),
      // As the platform's AppDirs fence: the build's dirs bound through it as one mount.
      appDir: cache,
      timeoutMs: 600_000,
    },
    // --log: the build's output with seconds since its start, to see where a build's time goes.
    values.log
      ? (line) => console.log(`  ${((performance.now() - t0) / 1000).toFixed(2)} ${line}`)
      : () => {},
    undefined,
    {
      env,
      cwd: work,
      ...(where === 'stack' ? { sandbox: stackBuilds.sandbox } : {}),
      ...(warm === 'fresh' ? {} : { warm: { pool, buildsDir: builds } }),
    },
  );
  const s = (performance.now() - t0) / 1000;
  await rm(work, { recursive: true, force: true });
  return s;
}

/** The raw package manager commands on a fresh copy of `app` with empty caches: wall seconds. */
async function raw(app) {
  const work = await mkdtemp(join(dir, `raw-${app}-`));
  await cp(join(ROOT, 'examples/apps', app), join(work, 'app'), { recursive: true });
  await mkdir(join(work, 'cache'));
  const { wall } = await measure(['raw', app, join(work, 'app'), join(work, 'cache')], work);
  await rm(work, { recursive: true, force: true });
  return wall;
}
if (values.runtimes) {
  await runtimes();
  process.exit(0);
}
for (const app of apps) await raw(app);

const results = {};
const raws = {};
const loads = [];
for (let r = 0; r < rounds; r++)
  for (const app of apps) {
    raws[app] ??= [];
    raws[app].push(await raw(app));
    console.log(`round ${r + 1} ${app}: raw package manager ${raws[app].at(-1).toFixed(2)} s`);
    for (const where of r % 2 ? ['stack', 'host'] : ['host', 'stack']) {
      const cache = join(dir, `c-${app}-${where}-${r}`);
      await mkdir(join(cache, 'cache'), { recursive: true });
      await mkdir(join(cache, 'buildpacks'), { recursive: true });
      const cold = await build(app, where, cache, 'cold');
      const warm = await build(app, where, cache, 'fresh');
      const pre = await build(app, where, cache, 'pre-started');
      await pool.drop(app);
      loads.push(loadavg()[0]);
      const k = `${app} ${where}`;
      results[k] ??= { cold: [], warm: [], pre: [] };
      results[k].cold.push(cold);
      results[k].warm.push(warm);
      results[k].pre.push(pre);
      console.log(
        `round ${r + 1} ${k}: cold ${cold.toFixed(2)} s, warm ${warm.toFixed(2)} s, warm on a pre-started worker ${pre.toFixed(2)} s (load ${loadavg()[0].toFixed(1)})`,
      );
    }
  }

console.log(
  `\nmedians of ${rounds} rounds (load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}):`,
);
console.log(
  '| app | where | cold build | warm rebuild, fresh worker | cold / warm | warm rebuild, pre-started worker | cold / warm |',
);
console.log('|---|---|---|---|---|---|---|');
for (const app of apps) {
  for (const where of ['host', 'stack']) {
    const m = results[`${app} ${where}`];
    const [c, w, p] = [m.cold, m.warm, m.pre].map(median);
    console.log(
      `| ${app} | ${where} | ${c.toFixed(2)} s | ${w.toFixed(2)} s | ${(c / w).toFixed(1)}× | ${p.toFixed(2)} s | ${(c / p).toFixed(1)}× |`,
    );
  }
  const h = results[`${app} host`];
  const s = results[`${app} stack`];
  const ratio = (k) => (median(s[k]) / median(h[k])).toFixed(2);
  console.log(`| ${app} | stack / host | ${ratio('cold')} | ${ratio('warm')} | | ${ratio('pre')} | |`);
}
console.log('\n| app | raw package manager (host) | cold build over it: host | stack |');
console.log('|---|---|---|---|');
for (const app of apps) {
  const rw = median(raws[app]);
  const over = (where) => {
    const c = median(results[`${app} ${where}`].cold);
    return `${(((c - rw) / c) * 100).toFixed(0)} % (${(c - rw).toFixed(2)} s)`;
  };
  console.log(`| ${app} | ${rw.toFixed(2)} s | ${over('host')} | ${over('stack')} |`);
}
await pool.close();
await rm(dir, { recursive: true, force: true });

/** --runtimes: pinned against as-is builds in the stack, cold and warm, interleaved per round. */
async function runtimes() {
  const times = {};
  for (let r = 0; r < rounds; r++)
    for (const app of apps)
      for (const pin of r % 2 ? [false, true] : [true, false]) {
        const cache = join(dir, `r-${app}-${pin}-${r}`);
        await mkdir(join(cache, 'cache'), { recursive: true });
        await mkdir(join(cache, 'buildpacks'), { recursive: true });
        const cold = await build(app, 'stack', cache, 'cold', pin);
        const warm = await build(app, 'stack', cache, 'fresh', pin);
        const k = `${app} ${pin ? 'pinned' : 'as is'}`;
        times[k] ??= { cold: [], warm: [] };
        times[k].cold.push(cold);
        times[k].warm.push(warm);
        console.log(
          `round ${r + 1} ${k}: cold ${cold.toFixed(2)} s, warm ${warm.toFixed(2)} s (load ${loadavg()[0].toFixed(1)})`,
        );
      }
  console.log(`\nmedians of ${rounds} rounds, in the stack (load ${loadavg()[0].toFixed(1)} at the end):`);
  console.log(
    '| app | first build, pinned | first build, as is | warm, pinned | warm, as is | a cached runtime adds |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const app of apps) {
    const p = times[`${app} pinned`];
    const a = times[`${app} as is`];
    const [pc, ac, pw, aw] = [p.cold, a.cold, p.warm, a.warm].map(median);
    console.log(
      `| ${app}: ${PIN[app][0]} | ${pc.toFixed(2)} s | ${ac.toFixed(2)} s | ${pw.toFixed(2)} s | ${aw.toFixed(2)} s | ${(pw - aw).toFixed(2)} s |`,
    );
  }
  await pool.close();
  await rm(dir, { recursive: true, force: true });
}
