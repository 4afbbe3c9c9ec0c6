import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { SlipwayError } from '../errors.js';
import { Kernel } from '../kernel.js';
import type { Plugin } from '../plugin.js';
import { runBuild, slugMetadataPath } from './pipeline.js';

const fixtures = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));

/** A small real buildpack written against the raw hooks: claims apps with hello.txt. */
function helloBuildpack(id = 'hello', marker = 'hello.txt'): Plugin {
  return {
    name: `buildpack-${id}`,
    apply(k) {
      k.catalog.buildpacks.set(id, { id, name: `Hello-${id}`, plugin: `buildpack-${id}` });
      k.hooks.detect.tapPromise(`buildpack-${id}`, async (ctx) => {
        if (ctx.only && ctx.only !== id) return undefined;
        if (existsSync(path.join(ctx.buildDir, marker))) return { buildpack: id, name: `Hello-${id}` };
        ctx.reasons.set(id, `no ${marker}`);
        return undefined;
      });
      k.hooks.compile.for(id).tapPromise(`buildpack-${id}`, async (ctx) => {
        ctx.log.step(`Compiling with ${id}`);
        const runs = path.join(ctx.cacheDir, 'runs');
        const n = existsSync(runs) ? Number(await readFile(runs, 'utf8')) + 1 : 1;
        await writeFile(runs, String(n));
        const greeting = existsSync(path.join(ctx.envDir, 'GREETING'))
          ? await readFile(path.join(ctx.envDir, 'GREETING'), 'utf8')
          : '';
        await writeFile(
          path.join(ctx.buildDir, `built-by-${id}.txt`),
          `${greeting} run ${n} seen=${ctx.exports.FROM_FIRST ?? ''}`,
        );
        ctx.exports[`FROM_${id === 'hello' ? 'FIRST' : 'SECOND'}`] = id;
      });
      k.hooks.release.tap(`buildpack-${id}`, (spec, ctx) =>
        ctx.buildpack === id
          ? { ...spec, processTypes: { ...spec.processTypes, web: `serve-${id}`, [id]: 'x' } }
          : spec,
      );
    },
  };
}

describe('runBuild', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'slipway-core-test-'));
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  it('builds a slug: isolated dir, slugignore, env dir, cache, Procfile over defaults, metadata', async () => {
    const kernel = new Kernel();
    await kernel.use(helloBuildpack());
    const lines: string[] = [];
    const source = path.join(fixtures, 'simple-app');
    const out = path.join(tmp, 'slug.tgz');
    const cacheDir = path.join(tmp, 'cache');
    const r = await runBuild({
      kernel,
      source,
      output: out,
      cacheDir,
      env: { GREETING: 'hey' },
      onLine: (l) => lines.push(l),
    });
    expect(lines).to.include('-----> Hello-hello app detected');
    expect(lines).to.include('-----> Compiling with hello');
    expect(r.processTypes).to.deep.equal({ web: './start.sh', hello: 'x', worker: 'echo working' });
    expect(r.slug!.checksum).to.match(/^sha256:[0-9a-f]{64}$/);
    const unpacked = path.join(tmp, 'unpacked');
    await mkdir(unpacked);
    execFileSync('tar', ['-xzf', out, '-C', unpacked]);
    expect(readFileSync(path.join(unpacked, 'built-by-hello.txt'), 'utf8')).to.equal('hey run 1 seen=');
    expect(existsSync(path.join(unpacked, 'docs'))).to.equal(false, '.slugignore removes docs/');
    expect(existsSync(path.join(unpacked, 'debug.log'))).to.equal(false, '.slugignore removes *.log');
    expect(existsSync(path.join(unpacked, 'hello.txt'))).to.equal(true);
    expect(execFileSync(path.join(unpacked, 'start.sh')).toString()).to.equal('hello\n');
    expect(existsSync(path.join(source, 'built-by-hello.txt'))).to.equal(
      false,
      'the source is never written',
    );
    const meta = JSON.parse(readFileSync(slugMetadataPath(out), 'utf8'));
    expect(meta).to.include({ checksum: r.slug!.checksum, size: r.slug!.size, stack: 'slipway-13' });
    expect(meta.buildpacks).to.deep.equal([{ id: 'hello', name: 'Hello-hello' }]);
    const again = await runBuild({ kernel, source, output: out, cacheDir, env: { GREETING: 'hey' } });
    expect(again.slug!.checksum).to.not.equal('', 'second build');
    execFileSync('tar', ['-xzf', out, '-C', unpacked]);
    expect(readFileSync(path.join(unpacked, 'built-by-hello.txt'), 'utf8')).to.equal(
      'hey run 2 seen=',
      'the cache dir is kept',
    );
  });

  it('runs a pinned list in order, passing exports on, and the last default web wins', async () => {
    const kernel = new Kernel();
    await kernel.use(helloBuildpack('hello'));
    await kernel.use(helloBuildpack('second', 'start.sh'));
    const r = await runBuild({
      kernel,
      source: path.join(fixtures, 'simple-app'),
      buildpacks: ['hello', 'second'],
      keepBuildDir: true,
    });
    expect(r.buildpacks.map((b) => b.buildpack)).to.deep.equal(['hello', 'second']);
    expect(readFileSync(path.join(r.buildDir!, 'built-by-second.txt'), 'utf8')).to.contain('seen=hello');
    rmSync(path.dirname(r.buildDir!), { recursive: true, force: true });
  });

  async function failure(p: Promise<unknown>): Promise<SlipwayError> {
    try {
      await p;
    } catch (e) {
      expect(e).to.be.instanceOf(SlipwayError);
      return e as SlipwayError;
    }
    throw new Error('build should have failed');
  }

  it('fails clearly when nothing detects, naming what each buildpack looked for, and writes no slug', async () => {
    const kernel = new Kernel();
    await kernel.use(helloBuildpack('hello', 'nothing-here.txt'));
    const out = path.join(tmp, 'slug.tgz');
    const e = await failure(runBuild({ kernel, source: path.join(fixtures, 'simple-app'), output: out }));
    expect(e.code).to.equal('SLIPWAY_ERR_BUILD_DETECT_NONE');
    expect(e.hint).to.contain('hello: no nothing-here.txt');
    expect(existsSync(out)).to.equal(false);
  });

  it('refuses an unknown or non-matching pinned buildpack', async () => {
    const kernel = new Kernel();
    await kernel.use(helloBuildpack('hello', 'nothing-here.txt'));
    const src = path.join(fixtures, 'simple-app');
    expect((await failure(runBuild({ kernel, source: src, buildpacks: ['heroku/ruby'] }))).code).to.equal(
      'SLIPWAY_ERR_BUILDPACK_UNKNOWN',
    );
    const e = await failure(runBuild({ kernel, source: src, buildpacks: ['heroku/hello'] }));
    expect(e.code).to.equal('SLIPWAY_ERR_BUILD_DETECT_PINNED');
    expect(e.message).to.contain('no nothing-here.txt');
  });

  it('fetches a pinned buildpack the kernel lacks through fetchBuildpack, and reports a failed fetch', async () => {
    const kernel = new Kernel();
    const asked: string[] = [];
    const lines: string[] = [];
    const src = path.join(fixtures, 'simple-app');
    const url = 'https://git.example.com/hello-buildpack.git';
    const r = await runBuild({
      kernel,
      source: src,
      buildpacks: [url],
      fetchBuildpack: async (name) => {
        asked.push(name);
        return helloBuildpack('fetched', 'hello.txt');
      },
      onLine: (l) => lines.push(l),
    });
    expect(asked).to.deep.equal([url]);
    expect(lines).to.include(`-----> Fetching buildpack ${url}`);
    expect(lines).to.include('-----> Hello-fetched app detected');
    expect(r.buildpacks.map((d) => d.buildpack)).to.deep.equal(['fetched']);
    const e = await failure(
      runBuild({
        kernel: new Kernel(),
        source: src,
        buildpacks: ['https://git.example.com/broken.git'],
        fetchBuildpack: async () => {
          throw new SlipwayError('SLIPWAY_ERR_BUILDPACK_GIT', 'git clone failed', { status: 400 });
        },
      }),
    );
    expect(e.code).to.equal('SLIPWAY_ERR_BUILDPACK_GIT');
  });

  it('fails on a bad Procfile or app.json before any compile', async () => {
    const kernel = new Kernel();
    let compiled = false;
    await kernel.use(helloBuildpack());
    kernel.hooks.compile.for('hello').tap('spy', () => {
      compiled = true;
    });
    expect((await failure(runBuild({ kernel, source: path.join(fixtures, 'bad-procfile') }))).code).to.equal(
      'SLIPWAY_ERR_PROCFILE_INVALID',
    );
    expect((await failure(runBuild({ kernel, source: path.join(fixtures, 'bad-app-json') }))).code).to.equal(
      'SLIPWAY_ERR_APP_JSON_INVALID',
    );
    expect(compiled).to.equal(false);
  });

  it('wraps a throwing buildpack with its name and leaves no slug', async () => {
    const kernel = new Kernel();
    await kernel.use(helloBuildpack());
    kernel.hooks.compile.for('hello').tapPromise('buildpack-hello', async () => {
      throw new Error('compiler crashed');
    });
    const out = path.join(tmp, 'slug.tgz');
    const lines: string[] = [];
    const e = await failure(
      runBuild({
        kernel,
        source: path.join(fixtures, 'simple-app'),
        output: out,
        onLine: (l) => lines.push(l),
      }),
    );
    expect(e.describe()).to.contain('[buildpack-hello compile(hello)]').and.contain('compiler crashed');
    expect(lines.at(-1)).to.match(/^ ! {5}Build failed: \[buildpack-hello/);
    expect(existsSync(out)).to.equal(false);
  });

  it('times out a hanging buildpack', async function () {
    this.timeout(20_000);
    const kernel = new Kernel();
    await kernel.use(helloBuildpack());
    let aborted = false;
    kernel.hooks.compile.for('hello').tapPromise('buildpack-hello', (ctx) => {
      ctx.signal.addEventListener('abort', () => {
        aborted = true;
      });
      return new Promise(() => {});
    });
    const t = Date.now();
    // Room for the stages before compile on a loaded machine; the hang is in compile.
    const e = await failure(runBuild({ kernel, source: path.join(fixtures, 'simple-app'), timeoutMs: 2000 }));
    expect(e.code).to.equal('SLIPWAY_ERR_BUILD_TIMEOUT');
    expect(e.message).to.contain('compile (hello)');
    expect(aborted).to.equal(true);
    expect(Date.now() - t).to.be.lessThan(7000);
  });

  it('refuses slugs above the hard limit and warns above the soft one', async () => {
    const kernel = new Kernel();
    await kernel.use(helloBuildpack());
    const src = path.join(fixtures, 'simple-app');
    const out = path.join(tmp, 'slug.tgz');
    const lines: string[] = [];
    const ok = await runBuild({
      kernel,
      source: src,
      output: out,
      slugWarnBytes: 10,
      onLine: (l) => lines.push(l),
    });
    expect(ok.warnings[0]).to.contain('exceeds the soft limit');
    expect(lines.some((l) => l.startsWith(' !     Your slug size'))).to.equal(true);
    const e = await failure(runBuild({ kernel, source: src, output: out, slugMaxBytes: 50 }));
    expect(e.code).to.equal('SLIPWAY_ERR_SLUG_TOO_LARGE');
    expect(existsSync(out)).to.equal(false);
  });

  it('builds from a tar.gz source', async () => {
    const kernel = new Kernel();
    await kernel.use(helloBuildpack());
    const archive = path.join(tmp, 'src.tgz');
    execFileSync('tar', ['-czf', archive, '-C', path.join(fixtures, 'simple-app'), '.']);
    const r = await runBuild({ kernel, source: archive });
    expect(r.processTypes.web).to.equal('./start.sh');
  });
});
