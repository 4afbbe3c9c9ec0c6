// Builds on the host against builds in the stack's build root (bubblewrap), side by side, for the
// Node.js and Python examples, through the platform's build worker (runBuildInWorker, as a
// `git push` runs it): a cold build (empty cache) and a warm rebuild (same cache, nothing
// changed), rounds interleaved, medians reported with the machine's load.
//
//   node bench/runtime/stack-builds.mjs [--rounds 3] [--only node,python]
import { chmod, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_STACK } from '@slipway/core';
import { openStackBuilds, runBuildInWorker } from '@slipway/runtime';
import { ROOT } from './bench-lib.mjs';

const { values } = parseArgs({ options: { rounds: { type: 'string' }, only: { type: 'string' } } });
const rounds = Number(values.rounds ?? 3);
const apps = (values.only ?? 'node,python').split(',');
const BUILDPACK = { node: 'nodejs', python: 'python' };

const dir = await mkdtemp(join(tmpdir(), 'slipway-bench-stack-builds-'));
await chmod(dir, 0o755);
const builds = await openStackBuilds(DEFAULT_STACK.id, join(dir, 'stubs'));
if (!builds.sandbox) {
  console.error(`builds in the stack are unavailable: ${builds.warning}`);
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
let n = 0;
/** One build of `app` on `cache` (host or stack); its wall time in seconds. */
async function build(app, where, cache) {
  const work = join(dir, `w${n++}`);
  await mkdir(work);
  await cp(join(ROOT, 'examples/apps', app), join(work, 'src'), { recursive: true });
  const env = { PATH: process.env.PATH, HOME: join(cache, 'home'), TMPDIR: work, LANG: 'C.UTF-8' };
  for (const k of ['SSL_CERT_FILE', 'NODE_EXTRA_CA_CERTS', 'PIP_CERT', 'REQUESTS_CA_BUNDLE'])
    if (process.env[k]) env[k] = process.env[k];
  await mkdir(env.HOME, { recursive: true });
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
      timeoutMs: 600_000,
    },
    () => {},
    undefined,
    { env, cwd: work, ...(where === 'stack' ? { sandbox: builds.sandbox } : {}) },
  );
  const s = (performance.now() - t0) / 1000;
  await rm(work, { recursive: true, force: true });
  return s;
}

const results = {};
const loads = [];
for (let r = 0; r < rounds; r++)
  for (const app of apps)
    for (const where of r % 2 ? ['stack', 'host'] : ['host', 'stack']) {
      const cache = join(dir, `c-${app}-${where}-${r}`);
      await mkdir(join(cache, 'cache'), { recursive: true });
      await mkdir(join(cache, 'buildpacks'), { recursive: true });
      const cold = await build(app, where, cache);
      const warm = await build(app, where, cache);
      loads.push(loadavg()[0]);
      const k = `${app} ${where}`;
      results[k] ??= { cold: [], warm: [] };
      results[k].cold.push(cold);
      results[k].warm.push(warm);
      console.log(
        `round ${r + 1} ${k}: cold ${cold.toFixed(2)} s, warm ${warm.toFixed(2)} s (load ${loadavg()[0].toFixed(1)})`,
      );
    }

console.log(
  `\nmedians of ${rounds} rounds (load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}):`,
);
console.log('| app | where | cold build | warm rebuild | cold / warm |');
console.log('|---|---|---|---|---|');
for (const app of apps) {
  for (const where of ['host', 'stack']) {
    const m = results[`${app} ${where}`];
    const c = median(m.cold);
    const w = median(m.warm);
    console.log(`| ${app} | ${where} | ${c.toFixed(2)} s | ${w.toFixed(2)} s | ${(c / w).toFixed(1)}× |`);
  }
  const h = results[`${app} host`];
  const s = results[`${app} stack`];
  console.log(
    `| ${app} | stack / host | ${(median(s.cold) / median(h.cold)).toFixed(2)} | ${(median(s.warm) / median(h.warm)).toFixed(2)} | |`,
  );
}
await rm(dir, { recursive: true, force: true });
