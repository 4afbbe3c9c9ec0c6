/**
 * The two measured steps of the buildpack benchmark, each run in its own process so that
 * /usr/bin/time can count its CPU time with every child it starts:
 *   node steps.mjs build <buildpack> <source> <cacheDir> <workDir>   one runBuild writing a slug
 *   node steps.mjs raw <lang> <appCopy> <freshCacheDir>              the raw package-manager commands
 * Both print one JSON line with their own timings on stdout.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kernel, offerPlatformNode, runBuild } from '@slipway/core';

/**
 * The interpreter the buildpack picks for the app: `python3.X` when `.python-version` or
 * `runtime.txt` pins 3.X and that binary is on PATH, else `python3` (as the buildpack falls back).
 */
function pythonFor(dir) {
  const pinned = ['.python-version', 'runtime.txt']
    .map((f) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : ''))
    .join('\n')
    .match(/(\d+)\.(\d+)/);
  if (pinned) {
    const name = `python${pinned[1]}.${pinned[2]}`;
    if ((process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, name)))) return name;
  }
  return 'python3';
}

/** Per example: the commands a developer would run by hand, in the app dir, with empty caches. */
export const RAW = {
  node: (c) => [
    ['npm', ['ci', '--include=dev', '--no-audit', '--no-fund'], { npm_config_cache: c }],
    ['npm', ['run', 'build'], {}],
    ['npm', ['prune', '--omit=dev', '--no-audit', '--no-fund'], { npm_config_cache: c }],
  ],
  python: (c, dir) => [
    [
      pythonFor(dir),
      ['-m', 'pip', 'install', '--target', '.heroku/python', '--no-compile', '-r', 'requirements.txt'],
      { PIP_CACHE_DIR: c, PIP_DISABLE_PIP_VERSION_CHECK: '1' },
    ],
  ],
  java: (c, dir) => [
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
  go: (c) => {
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
};

function run(cmd, args, cwd, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}`)),
    );
  });
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'build') {
  const [buildpack, source, cacheDir, workDir] = rest;
  const kernel = new Kernel();
  await kernel.use((await import(`@slipway/buildpack-${buildpack}`)).default);
  // What `slipway build` and the platform offer: the platform's shared Node.js (made once).
  const { sharedMembers } = await offerPlatformNode();
  const r = await runBuild({
    kernel,
    ...(sharedMembers ? { sharedMembers } : {}),
    source,
    app: 'bench',
    buildpacks: [buildpack],
    cacheDir,
    workDir,
    output: join(workDir, `slug-${Date.now()}.tgz`),
    ...(process.env.BENCH_VERBOSE ? { onLine: (l) => console.error(l) } : {}),
  });
  console.log(JSON.stringify(r.timings));
} else if (mode === 'raw') {
  const [lang, dir, cache] = rest;
  const t = performance.now();
  for (const [cmd, args, env] of RAW[lang](cache, dir)) await run(cmd, args, dir, env);
  console.log(JSON.stringify({ total: performance.now() - t }));
} else if (mode) {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
