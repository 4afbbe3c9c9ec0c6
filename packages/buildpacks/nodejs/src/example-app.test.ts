/**
 * The Node example app through the real pipeline: cold build, slug run from another directory,
 * warm rebuild from the cache, and cache invalidation on a lockfile or Node.js version change.
 */
import { appendFile, chmod, cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSlug, startSlug, testBuildpack, unpackSlug } from '@slipway/buildpack-sdk';
import { expect } from 'chai';
import nodejs from './index.js';

const example = fileURLToPath(new URL('../../../../examples/apps/node', import.meta.url));
const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

describe('nodejs buildpack: examples/apps/node', function () {
  this.timeout(180_000);
  let work: string;
  let cacheDir: string;
  let coldLog: string[];
  let slugPath: string;
  let appDir: string;
  let processTypes: Record<string, string>;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'slipway-nodejs-example-'));
    cacheDir = join(work, 'cache');
    slugPath = join(work, 'slug.tgz');
    const r = await testBuildpack(nodejs, example, { cacheDir, output: slugPath });
    coldLog = r.log;
    processTypes = r.processTypes;
    // Remove the build dir before running: the slug must not depend on where it was built.
    // The processes below run from standalone startSlug/runSlug for the same reason.
    await r.cleanup();
    appDir = await unpackSlug(slugPath);
  });

  after(async () => {
    await rm(appDir, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  it('streams Heroku-style output and installs on the first build', () => {
    const text = coldLog.join('\n');
    expect(text).to.include('-----> Node.js app detected');
    // The platform's Node.js and npm, vendored into the slug as Heroku always does.
    expect(text)
      .to.include(`Using Node.js ${process.version} and npm `)
      .and.include('(in the slug at .heroku/node)');
    expect(text).to.include('-----> Installing dependencies');
    expect(text).to.include('-----> Running build');
    expect(text).to.include('-----> Pruning devDependencies');
    expect(text).not.to.include('Using cached node_modules');
  });

  it('uses the Procfile and ships the build output without dev dependencies', async () => {
    expect(processTypes).to.include({
      web: 'npm start',
      worker: 'node worker.js',
      release: 'node release.js',
    });
    const info = JSON.parse(await readFile(join(appDir, 'build/info.json'), 'utf8'));
    expect(info.nodeMajor).to.be.a('number');
    expect(await exists(join(appDir, 'node_modules/express/package.json'))).to.equal(true);
    expect(await exists(join(appDir, 'node_modules/semver'))).to.equal(false);
    expect(await exists(join(appDir, '.profile.d/nodejs.sh'))).to.equal(true);
  });

  it('runs the web process from another directory and answers /health and /', async () => {
    const web = await startSlug(slugPath, processTypes.web!);
    try {
      expect((await web.fetch('/health')).status).to.equal(200);
      const root = (await (await web.fetch('/')).json()) as { app: string };
      expect(root.app).to.equal('slipway-example-node');
      const db = await web.fetch('/db');
      expect(db.status).to.equal(503);
      expect(await db.json()).to.deep.equal({ database: 'not configured' });
    } finally {
      await web.stop();
    }
  });

  it('runs the release process, which skips without DATABASE_URL', async () => {
    const r = await runSlug(slugPath, processTypes.release!, { dyno: 'release.1' });
    expect(r.code, r.output).to.equal(0);
    expect(r.output).to.include('DATABASE_URL not set, skipping');
  });

  it('runs the worker, which logs a heartbeat without REDIS_URL and stops on SIGTERM', async () => {
    const worker = await startSlug(slugPath, processTypes.worker!, { dyno: 'worker.1', bind: false });
    const deadline = Date.now() + 10_000;
    while (!worker.output().includes('heartbeat') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    const exit = await worker.stop();
    expect(worker.output()).to.include('REDIS_URL not set');
    expect(exit, worker.output()).to.deep.equal({ code: 0, signal: null });
  });

  it('reuses the whole cached build when nothing changed', async () => {
    const r = await testBuildpack(nodejs, example, { cacheDir });
    try {
      const text = r.log.join('\n');
      expect(text).to.include('-----> Restoring cached build');
      expect(text).not.to.include('-----> Installing dependencies');
      expect(text).not.to.include('-----> Running build');
      expect(await exists(join(r.buildDir!, 'node_modules/semver'))).to.equal(false);
      expect(await exists(join(r.buildDir!, 'node_modules/express'))).to.equal(true);
      expect(await exists(join(r.buildDir!, 'build/info.json'))).to.equal(true);
      expect(await exists(join(r.buildDir!, '.profile.d/nodejs.sh'))).to.equal(true);
    } finally {
      await r.cleanup();
    }
  });

  it('rebuilds changed source on the cached dependencies without reinstalling', async () => {
    const copy = join(work, 'source-change');
    await cp(example, copy, { recursive: true, filter: (src) => !/node_modules|\/build$/.test(src) });
    await appendFile(join(copy, 'server.js'), '// a source change\n');
    const r = await testBuildpack(nodejs, copy, { cacheDir });
    try {
      const text = r.log.join('\n');
      expect(text).to.include('Using cached node_modules');
      expect(text).not.to.include('-----> Installing dependencies');
      expect(text).to.include('-----> Running build');
      expect(text).to.include('dev-only path(s) recorded by the first build');
      expect(await exists(join(r.buildDir!, 'node_modules/semver'))).to.equal(false);
      expect(await exists(join(r.buildDir!, 'node_modules/express'))).to.equal(true);
      expect(await readFile(join(r.buildDir!, 'server.js'), 'utf8')).to.include('a source change');
    } finally {
      await r.cleanup();
    }
  });

  it('runs the build again when a config var changes', async () => {
    const r = await testBuildpack(nodejs, example, { cacheDir, env: { API_BASE: 'https://example.test' } });
    try {
      const text = r.log.join('\n');
      expect(text).to.include('-----> Running build');
      expect(text).to.include('Using cached node_modules');
    } finally {
      await r.cleanup();
    }
  });

  it('reinstalls when the lockfile changes', async () => {
    const copy = join(work, 'lock-change');
    await cp(example, copy, { recursive: true, filter: (src) => !/node_modules|\/build$/.test(src) });
    const lockFile = join(copy, 'package-lock.json');
    const lock = JSON.parse(await readFile(lockFile, 'utf8'));
    lock.version = '1.0.1';
    lock.packages[''].version = '1.0.1';
    await writeFile(lockFile, `${JSON.stringify(lock, null, 2)}\n`);
    const r = await testBuildpack(nodejs, copy, { cacheDir });
    try {
      const text = r.log.join('\n');
      expect(text).to.include('-----> Installing dependencies');
      expect(text).not.to.include('Using cached node_modules');
    } finally {
      await r.cleanup();
    }
  });

  it('reinstalls when the Node.js version changes', async () => {
    // A `node` earlier on PATH that reports another version: what a Node.js upgrade looks like.
    const bin = join(work, 'fake-node-bin');
    await mkdir(bin, { recursive: true });
    const real = JSON.stringify(process.execPath);
    await writeFile(
      join(bin, 'node'),
      `#!/bin/sh\nif [ "$1" = "--version" ]; then echo v20.99.0; exit 0; fi\nexec ${real} "$@"\n`,
    );
    await chmod(join(bin, 'node'), 0o755);
    const env = { PATH: `${bin}:${process.env.PATH}` };
    const first = await testBuildpack(nodejs, example, { cacheDir, env });
    try {
      const text = first.log.join('\n');
      expect(text).to.include('Using Node.js v20.99.0 (installed)');
      expect(text).to.include('-----> Installing dependencies');
      expect(text).not.to.include('Using cached node_modules');
    } finally {
      await first.cleanup();
    }
    const again = await testBuildpack(nodejs, example, { cacheDir, env });
    try {
      expect(again.log.join('\n')).not.to.include('-----> Installing dependencies');
    } finally {
      await again.cleanup();
    }
  });
});
