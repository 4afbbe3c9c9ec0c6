/**
 * An app with no start script, no dependencies and no engines.node: web defaults to
 * `node server.js`, and the slug carries the Node.js and npm it was built with at `.heroku/node`
 * (as Heroku always vendors them), first on PATH at dyno start even where no npm is installed:
 * the platform's shared copy, or, where the platform shares none, one kept in the app's cache.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startSlug, testBuildpack } from '@slipway/buildpack-sdk';
import { expect } from 'chai';
import nodejs from './index.js';

const execFileP = promisify(execFile);

describe('nodejs buildpack: default web process', function () {
  this.timeout(120_000);
  it('is node server.js, runs from the unpacked dir with NODE_ENV=production from .profile.d', async () => {
    const work = await mkdtemp(join(tmpdir(), 'slipway-nodejs-default-web-'));
    const slug = join(work, 'slug.tgz');
    const cacheDir = join(work, 'cache');
    const fixture = fileURLToPath(new URL('../test/fixtures/server-only', import.meta.url));
    const r = await testBuildpack(nodejs, fixture, { output: slug, cacheDir });
    await r.cleanup();
    expect(r.processTypes).to.deep.equal({ web: 'node server.js' });
    const hostNode = process.version;
    const hostNpm = (await execFileP('npm', ['--version'])).stdout.trim();
    const log = r.log.join('\n');
    expect(log).to.include(`-----> Installing Node.js ${hostNode.slice(1)}`);
    expect(log).to.include(`Using Node.js ${hostNode} and npm ${hostNpm} (in the slug at .heroku/node)`);
    const web = await startSlug(slug, r.processTypes.web!);
    try {
      const res = await web.fetch('/health');
      expect(res.status).to.equal(200);
      expect(await res.text()).to.equal(`cwd=${web.dir} env=production`);
    } finally {
      await web.stop();
    }
    // With a PATH that holds no node or npm at all, the slug's own answer, as on a bare stack image:
    // only the shell and the tools the launchers use.
    const tools = join(work, 'tools');
    // The slug runs as nobody when the tests run as root: the tools must be reachable to it.
    await chmod(work, 0o755);
    await mkdir(tools, { mode: 0o755 });
    for (const t of ['bash', 'sh', 'dirname'])
      await symlink((await execFileP('bash', ['-c', `command -v ${t}`])).stdout.trim(), join(tools, t));
    const probe = await startSlug(
      slug,
      'echo "$(command -v node) $(node --version) $(command -v npm) $(npm --version)"',
      { bind: false, env: { PATH: tools } },
    );
    await probe.exited;
    const out = probe.output().trim();
    await probe.stop();
    expect(out).to.match(
      new RegExp(
        `/\\.heroku/node/bin/node ${hostNode.replace(/\./g, '\\.')} \\S+/\\.heroku/node/bin/npm ${hostNpm}$`,
      ),
    );
    // The platform shares its Node.js (made once per machine). Where it shares none, the
    // buildpack copies it into the app's cache layer, and a rebuild takes it from there.
    const shared = "The platform's shared copy: packed once for every app";
    expect(log).to.include(shared);
    const own = join(work, 'own-cache');
    const cold = await testBuildpack(nodejs, fixture, { cacheDir: own, sharedRuntimes: false });
    await cold.cleanup();
    expect(cold.log.join('\n'))
      .to.include(`Using Node.js ${hostNode} and npm ${hostNpm} (in the slug at .heroku/node)`)
      .and.not.include(shared);
    const warm = await testBuildpack(nodejs, fixture, { cacheDir: own, sharedRuntimes: false });
    await warm.cleanup();
    expect(warm.log.join('\n')).to.include(`Using cached Node.js ${hostNode.slice(1)} and npm ${hostNpm}`);
    await rm(work, { recursive: true, force: true });
  });
});
