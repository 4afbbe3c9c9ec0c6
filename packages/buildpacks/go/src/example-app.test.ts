/**
 * The Go example app through the real pipeline: build, slug run from another directory, warm
 * rebuild from the cache, and module re-download on a go.sum or Go version change.
 */
import { execFile } from 'node:child_process';
import { access, chmod, cp, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startSlug, testBuildpack, unpackSlug } from '@slipway/buildpack-sdk';
import { expect } from 'chai';
import go from './index.js';
import { sharedCacheDir } from './testing/shared-cache.js';

const execFileP = promisify(execFile);
const example = fileURLToPath(new URL('../../../../examples/apps/go', import.meta.url));
/** No Go toolchain on the dyno's PATH: the binaries must run on their own. */
const dynoEnv = { PATH: '/usr/bin:/bin' };

describe('go buildpack: examples/apps/go', function () {
  this.timeout(300_000);
  let work: string;
  let firstLog: string;
  let slugPath: string;
  let appDir: string;
  let processTypes: Record<string, string>;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'slipway-go-example-'));
    slugPath = join(work, 'slug.tgz');
    const r = await testBuildpack(go, example, { cacheDir: sharedCacheDir(), output: slugPath });
    firstLog = r.log.join('\n');
    processTypes = r.processTypes;
    // Remove the build dir before running: the slug must not depend on where it was built.
    // The processes below run from standalone startSlug for the same reason.
    await r.cleanup();
    appDir = await unpackSlug(slugPath);
  });

  after(async () => {
    await rm(appDir, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  it('streams Heroku-style output with the versions and the packages it builds', () => {
    expect(firstLog).to.include('-----> Go app detected');
    expect(firstLog).to.include('Go version (go.mod): go 1.22');
    expect(firstLog).to.match(/Using Go \d+\.\d+(\.\d+)? \(installed\)/);
    expect(firstLog).to.include('-----> Compiling 2 main packages');
    expect(firstLog).to.include('github.com/slipway/example-go/cmd/worker -> bin/worker');
  });

  it('ships both binaries and the .profile.d that puts them on PATH', async () => {
    expect(processTypes).to.deep.equal({ web: 'example-go', worker: 'worker' });
    for (const f of ['bin/example-go', 'bin/worker', '.profile.d/go.sh']) await access(join(appDir, f));
    expect((await stat(join(appDir, 'bin/example-go'))).mode & 0o111).to.not.equal(0);
  });

  it('runs the web process from another directory and answers /health and /', async () => {
    const web = await startSlug(slugPath, processTypes.web!, { env: dynoEnv });
    try {
      expect((await web.fetch('/health')).status).to.equal(200);
      const root = (await (await web.fetch('/')).json()) as { app: string };
      expect(root.app).to.equal('slipway-example-go');
      const redis = await web.fetch('/redis');
      expect(redis.status).to.equal(503);
      expect(await redis.json()).to.deep.equal({ redis: 'not configured' });
    } finally {
      await web.stop();
    }
  });

  it('runs the worker, which logs a heartbeat without REDIS_URL', async () => {
    const worker = await startSlug(slugPath, processTypes.worker!, {
      env: dynoEnv,
      dyno: 'worker.1',
      bind: false,
    });
    try {
      const deadline = Date.now() + 10_000;
      while (!worker.output().includes('heartbeat') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      expect(worker.output()).to.include('REDIS_URL not set');
    } finally {
      await worker.stop();
    }
  });

  it('rebuilds from the cache without downloading modules again', async () => {
    const r = await testBuildpack(go, example, { cacheDir: sharedCacheDir() });
    try {
      const text = r.log.join('\n');
      expect(text).to.include('Using cached Go modules');
      expect(text).to.include('Using cached Go build cache');
      expect(text).not.to.include('-----> Downloading modules');
    } finally {
      await r.cleanup();
    }
  });

  it('downloads modules again when go.sum changes (a dependency bump)', async () => {
    const copy = join(work, 'bumped');
    await cp(example, copy, { recursive: true, filter: (src) => !src.endsWith('/bin') });
    await execFileP('go', ['get', 'github.com/lib/pq@v1.10.8'], {
      cwd: copy,
      env: {
        ...process.env,
        GOTOOLCHAIN: 'local',
        GOFLAGS: '-mod=mod -modcacherw',
        GOMODCACHE: join(work, 'gomod'),
      },
    });
    const r = await testBuildpack(go, copy, { cacheDir: sharedCacheDir() });
    try {
      const text = r.log.join('\n');
      expect(text).to.include('-----> Downloading modules');
      expect(text).not.to.include('Using cached Go modules');
    } finally {
      await r.cleanup();
    }
  });

  it('downloads modules again when the Go version changes', async () => {
    // A `go` earlier on PATH that reports another version: what a Go upgrade looks like.
    const { stdout } = await execFileP('go', ['env', 'GOROOT']);
    const realGo = join(stdout.trim(), 'bin', 'go');
    const bin = join(work, 'fake-go-bin');
    await mkdir(bin, { recursive: true });
    await writeFile(
      join(bin, 'go'),
      `#!/bin/sh\nif [ "$1 $2" = "env GOVERSION" ]; then echo go1.99.1; exit 0; fi\nexec ${JSON.stringify(realGo)} "$@"\n`,
    );
    await chmod(join(bin, 'go'), 0o755);
    const env = { PATH: `${bin}:${process.env.PATH}` };
    const r = await testBuildpack(go, example, { cacheDir: sharedCacheDir(), env });
    try {
      const text = r.log.join('\n');
      expect(text).to.include('Using Go 1.99.1 (installed)');
      expect(text).to.include('-----> Downloading modules');
    } finally {
      await r.cleanup();
    }
  });
});
