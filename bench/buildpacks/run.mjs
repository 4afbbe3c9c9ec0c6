#!/usr/bin/env node
/**
 * Buildpack benchmark: for each example app in examples/apps (node, python, java, go — whichever
 * exist and whose buildpack is built), in one run:
 *   cold     `slipway build` through core's runBuild with an empty cache, writing a slug
 *   baseline the raw package-manager commands on a copy of the same app, with empty caches
 *   warm     the same build again with the cache of the cold build (dependencies unchanged)
 * and prints the platform overhead ((cold - baseline) / cold; target <= 10 %) and the warm
 * speed-up (cold / warm; target >= 5x). Rounds are interleaved and medians reported, because
 * this machine is shared. Usage:
 *   npx tsc -b packages/buildpacks/nodejs packages/buildpacks/go packages/buildpacks/python packages/buildpacks/java
 *   node bench/buildpacks/run.mjs [--rounds 3] [--only node,go] [--json out.json]
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Kernel, runBuild } from '@slipway/core';

const root = fileURLToPath(new URL('../../', import.meta.url));
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '1' },
    only: { type: 'string' },
    json: { type: 'string' },
    verbose: { type: 'boolean', default: false },
  },
});
const rounds = Math.max(1, Number(values.rounds));

/** Per example: its buildpack and the raw commands a developer would run (cwd = app copy). */
const LANGS = {
  node: {
    buildpack: 'nodejs',
    raw: (c) => [
      ['npm', ['ci', '--include=dev', '--no-audit', '--no-fund'], { npm_config_cache: c }],
      ['npm', ['run', 'build'], {}],
      ['npm', ['prune', '--omit=dev', '--no-audit', '--no-fund'], { npm_config_cache: c }],
    ],
  },
  python: {
    buildpack: 'python',
    raw: (c) => [
      [
        'python3',
        ['-m', 'pip', 'install', '--target', '.heroku/python', '--no-compile', '-r', 'requirements.txt'],
        { PIP_CACHE_DIR: c, PIP_DISABLE_PIP_VERSION_CHECK: '1' },
      ],
    ],
  },
  java: {
    buildpack: 'java',
    raw: (c, dir) => [
      [
        existsSync(join(dir, 'mvnw')) ? './mvnw' : 'mvn',
        [
          '-B',
          '--no-transfer-progress',
          `-Dmaven.repo.local=${join(c, 'repository')}`,
          '-DskipTests',
          'package',
        ],
        {},
      ],
    ],
  },
  go: {
    buildpack: 'go',
    raw: (c) => {
      const env = {
        GOTOOLCHAIN: 'local',
        GOMODCACHE: join(c, 'mod'),
        GOCACHE: join(c, 'build'),
        GOFLAGS: '-modcacherw -buildvcs=false',
      };
      return [
        ['go', ['mod', 'download'], env],
        ['go', ['build', '-trimpath', '-o', 'bin/', './...'], env],
      ];
    },
  },
};

function run(cmd, args, cwd, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: values.verbose ? 'inherit' : 'ignore',
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}`)),
    );
  });
}

async function kernelFor(buildpack) {
  const kernel = new Kernel();
  const mod = await import(`@slipway/buildpack-${buildpack}`);
  await kernel.use(mod.default);
  return kernel;
}

async function build(kernel, buildpack, source, cacheDir, work) {
  const t = performance.now();
  const r = await runBuild({
    kernel,
    source,
    app: 'bench',
    buildpacks: [buildpack],
    cacheDir,
    workDir: work,
    output: join(work, `slug-${Date.now()}.tgz`),
    onLine: values.verbose ? (l) => console.error(l) : undefined,
  });
  return { wall: performance.now() - t, compile: r.timings.compile[buildpack], slug: r.timings.slug };
}

async function baseline(lang, source, work) {
  const copy = join(work, 'raw-app');
  await rm(copy, { recursive: true, force: true });
  await cp(source, copy, { recursive: true });
  const cache = await mkdtemp(join(work, 'raw-cache-'));
  const steps = LANGS[lang].raw(cache, copy);
  const t = performance.now();
  for (const [cmd, args, env] of steps) await run(cmd, args, copy, env);
  const wall = performance.now() - t;
  await rm(cache, { recursive: true, force: true });
  await rm(copy, { recursive: true, force: true });
  return wall;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const secs = (ms) => `${(ms / 1000).toFixed(2)} s`;

const only = values.only ? values.only.split(',') : Object.keys(LANGS);
const results = [];
console.log(
  `buildpack benchmark: ${rounds} round(s), ${cpus().length} CPUs, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
for (const lang of only) {
  const spec = LANGS[lang];
  const source = join(root, 'examples/apps', lang);
  if (!spec || !existsSync(source)) {
    console.log(`${lang}: skipped (no examples/apps/${lang})`);
    continue;
  }
  let kernel;
  try {
    kernel = await kernelFor(spec.buildpack);
  } catch (e) {
    console.log(
      `${lang}: skipped (@slipway/buildpack-${spec.buildpack} not built: ${e.message.split('\n')[0]})`,
    );
    continue;
  }
  const cold = [];
  const raw = [];
  const warm = [];
  const warmCompile = [];
  const coldCompile = [];
  for (let i = 0; i < rounds; i++) {
    const work = await mkdtemp(join(tmpdir(), `slipway-bench-${lang}-`));
    try {
      const cacheDir = join(work, 'cache');
      const c = await build(kernel, spec.buildpack, source, cacheDir, work);
      const b = await baseline(lang, source, work);
      const w = await build(kernel, spec.buildpack, source, cacheDir, work);
      cold.push(c.wall);
      coldCompile.push(c.compile);
      raw.push(b);
      warm.push(w.wall);
      warmCompile.push(w.compile);
      console.log(
        `  ${lang} round ${i + 1}: cold ${secs(c.wall)} (compile ${secs(c.compile)}, slug ${secs(c.slug)}), raw ${secs(b)}, warm ${secs(w.wall)} (compile ${secs(w.compile)})`,
      );
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
  const r = {
    lang,
    cold: median(cold),
    coldCompile: median(coldCompile),
    baseline: median(raw),
    warm: median(warm),
    warmCompile: median(warmCompile),
  };
  r.overhead = (r.cold - r.baseline) / r.cold;
  r.speedup = r.cold / r.warm;
  results.push(r);
}

console.log(
  '\n| app | cold build | raw commands | overhead (target <= 10 %) | warm rebuild | speed-up (target >= 5x) |',
);
console.log('|---|---|---|---|---|---|');
for (const r of results)
  console.log(
    `| ${r.lang} | ${secs(r.cold)} | ${secs(r.baseline)} | ${(r.overhead * 100).toFixed(1)} % | ${secs(r.warm)} | ${r.speedup.toFixed(1)}x |`,
  );
console.log(
  `load average after: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
if (values.json) {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(
    values.json,
    `${JSON.stringify({ at: new Date().toISOString(), rounds, results }, null, 2)}\n`,
  );
}
