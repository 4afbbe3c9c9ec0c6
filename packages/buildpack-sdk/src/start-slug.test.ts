import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSlipwayError } from '@slipway/core';
import { expect } from 'chai';
import { type TestBuildpackResult, testBuildpack } from './harness.js';
import { runSlug, startSlug } from './start-slug.js';
import { alive, fixture, sleep } from './test-helpers.test.js';
import type { BuildpackDefinition } from './types.js';

/** A buildpack that leaves the app as it is and adds a `.profile.d` script, like a real one. */
const nodeWeb: BuildpackDefinition = {
  id: 'node-web',
  name: 'Node web',
  detect: async (ctx) =>
    (await ctx.exists('server.js')) ? { detected: true } : { detected: false, reason: 'no server.js' },
  async compile(ctx) {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax, for the dyno's bash.
    await ctx.profileD('greeting', 'export GREETING="${GREETING:-hello from profile.d}"\n');
  },
};

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

describe('running a slug like a dyno (r.start, startSlug, runSlug)', function () {
  this.timeout(60_000);
  let r: TestBuildpackResult;
  let outDir: string;

  before(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'slipway-start-slug-'));
    r = await testBuildpack(nodeWeb, fixture('node-web'), { output: join(outDir, 'app.tgz') });
  });
  after(async () => {
    await r?.cleanup();
    await rm(outDir, { recursive: true, force: true });
  });

  it('starts a process type from a fresh unpacked dir, with PORT, DYNO, .profile.d and config vars', async () => {
    const web = await r.start('web', { env: { COLOR: 'blue' } });
    try {
      expect(web.dir).to.not.equal(r.buildDir);
      expect(web.url).to.equal(`http://127.0.0.1:${web.port}`);
      const body = (await (await web.fetch('/')).json()) as Record<string, any>;
      expect(body.cwd).to.equal(web.dir);
      expect(body.dyno).to.equal('web.1');
      expect(body.greeting).to.equal('hello from profile.d');
      expect(body.color).to.equal('blue');
      // A dyno is never root: as root, the process runs as nobody, reading the unpacked slug.
      if (process.getuid?.() === 0) {
        expect(web.user?.name).to.equal('nobody');
        expect(body.uid).to.equal(web.user?.uid);
      } else expect(body.uid).to.equal(process.getuid?.());
      expect(web.output()).to.contain(`listening on ${web.port}`);
    } finally {
      await web.stop();
    }
  });

  it('stop() kills the whole process group and removes the unpacked dir', async () => {
    const web = await r.start('web');
    const { helper } = (await (await web.fetch('/')).json()) as Record<string, any>;
    expect(alive(helper)).to.equal(true);
    const exit = await web.stop();
    expect(exit.signal ?? exit.code).to.not.equal(undefined);
    for (let i = 0; i < 50 && alive(helper); i++) await sleep(50);
    expect(alive(helper)).to.equal(false);
    expect(await exists(web.dir)).to.equal(false);
  });

  it('uses the port it is given', async () => {
    const { freePort } = await import('./index.js');
    const port = await freePort();
    const web = await r.start('web', { port });
    try {
      expect(web.port).to.equal(port);
      expect((await web.fetch('/')).status).to.equal(200);
    } finally {
      await web.stop();
    }
  });

  it('fails with the process output when it exits before binding PORT', async () => {
    const err = await r.start('crash').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(isSlipwayError(err, 'SLIPWAY_ERR_BUILDPACK_SLUG_EXITED')).to.equal(true);
    expect(err?.message).to.contain('code 3');
    expect(err?.message).to.contain('boot failed: bad-config');
  });

  it('fails after timeoutMs when it never listens, and stops it', async () => {
    const err = await startSlug(r.slug?.path as string, 'sleep 30', { timeoutMs: 500 }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(isSlipwayError(err, 'SLIPWAY_ERR_BUILDPACK_SLUG_BOOT_TIMEOUT')).to.equal(true);
  });

  it('starts a worker without waiting for a port (bind: false)', async () => {
    const worker = await r.start('worker', { bind: false });
    try {
      for (let i = 0; i < 100 && !worker.output().includes('working'); i++) await sleep(50);
      expect(worker.output()).to.contain('working');
    } finally {
      await worker.stop();
    }
  });

  it('runs a process type to completion (release) and names unknown types', async () => {
    const rel = await r.run('release', { env: { GREETING: 'hi' } });
    expect(rel.code).to.equal(0);
    expect(rel.output).to.equal('release ran in release.1 with hi\n');
    const err = await r.start('clock').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(isSlipwayError(err, 'SLIPWAY_ERR_BUILDPACK_SLUG_PROCESS_TYPE')).to.equal(true);
    expect(err?.message).to.contain('web');
    const undetected = await testBuildpack(nodeWeb, fixture('plain'));
    try {
      const none = await undetected.start('web').then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(none?.message).to.contain('the buildpack did not claim the app');
    } finally {
      await undetected.cleanup();
    }
  });

  it('runs a standalone slug path, and a build without `output` is packed on demand', async () => {
    const one = await runSlug(r.slug?.path as string, 'echo $DYNO; exit 7');
    expect(one).to.include({ code: 7, output: 'run.1\n' });
    const noSlug = await testBuildpack(nodeWeb, fixture('node-web'));
    try {
      expect(noSlug.slug).to.equal(undefined);
      const web = await noSlug.start('web');
      expect((await web.fetch('/')).status).to.equal(200);
      // cleanup() stops what is still running.
    } finally {
      await noSlug.cleanup();
    }
  });
});
