/**
 * The platform is what its plugins make it: a config file outside the checkout names a
 * third-party DynoRuntime plugin from its own directory, and the platform runs its dynos
 * through it (real build, real processes, real HTTP through the router) without ever
 * constructing the built-in runtime; a plugin object passed to `startPlatform` sees its
 * `beforeBuild` / `afterBuild` taps fire during a platform deploy, whose build runs in a worker.
 */
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { definePlugin, dynoRuntimeRef } from '@slipway/core';
import { expect } from 'chai';
import { packDir } from './demo.js';
import { DockerDynoRuntime } from './dynos/docker-runtime.js';
import { LocalDynoRuntime } from './dynos/local-runtime.js';
import { type Platform, startPlatform } from './platform.js';
import { eventually, FIXTURES, routerGet } from './platform-harness.test-helper.js';

const NODEJS = fileURLToPath(new URL('../../buildpacks/nodejs', import.meta.url));

describe('a platform composed from plugins', function () {
  this.timeout(300_000);
  let dir: string;
  let platform: Platform | undefined;
  let pluginFile: string;
  let build: { id: string; status: string; error?: string };
  let tgz: Buffer;
  const builtins = { local: 0, docker: 0 };
  const taps: string[] = [];
  const { init } = LocalDynoRuntime.prototype;
  const { create } = DockerDynoRuntime;

  const api = async <T = unknown>(method: string, path: string, body?: unknown): Promise<T> => {
    const p = platform as Platform;
    const r = await fetch(new URL(path, p.apiUrl), {
      method,
      headers: {
        authorization: `Bearer ${p.token}`,
        ...(Buffer.isBuffer(body) ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: Buffer.isBuffer(body) ? body : JSON.stringify(body) }),
    });
    const j = (await r.json()) as T;
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(j)}`);
    return j;
  };

  before(async () => {
    // Spies on the built-in runtimes' construction (every path through runtime-choice.ts).
    LocalDynoRuntime.prototype.init = function (this: LocalDynoRuntime) {
      builtins.local++;
      return init.call(this);
    };
    DockerDynoRuntime.create = (...a: Parameters<typeof create>) => {
      builtins.docker++;
      return create.apply(DockerDynoRuntime, a);
    };
    dir = await mkdtemp(join(tmpdir(), 'slipway-plugins-'));
    await chmod(dir, 0o755);
    await mkdir(join(dir, 'plugins'));
    pluginFile = join(dir, 'plugins', 'process-runtime.mjs');
    await copyFile(join(FIXTURES, 'process-runtime', 'process-runtime.mjs'), pluginFile);
    const configFile = join(dir, 'slipway.config.json');
    await writeFile(
      configFile,
      JSON.stringify({
        defaults: false,
        plugins: [NODEJS, ['./plugins/process-runtime.mjs', { label: 'outside the checkout' }]],
        platform: { runtime: 'local' },
      }),
    );
    const buildTaps = definePlugin({
      name: 'build-taps',
      register(reg) {
        reg.hooks.beforeBuild.tapPromise('build-taps', async (b) => {
          taps.push(`before ${b.app} server.js=${existsSync(join(b.buildDir, 'server.js'))}`);
          if (b.app === 'refused') throw new Error('builds of refused are closed today');
        });
        reg.hooks.afterBuild.tapPromise('build-taps', async (b, outcome) => {
          taps.push(`after ${b.app} web=${outcome?.processTypes.web} slug=${outcome?.slug ? 'yes' : 'no'}`);
        });
      },
    });
    platform = await startPlatform({
      dataDir: join(dir, 'data'),
      routerPort: 0,
      apiPort: 0,
      configFile,
      plugins: [buildTaps],
    });
    await api('POST', '/apps', { name: 'viaplugin' });
    const src = await mkdtemp(join(tmpdir(), 'slipway-plugins-src-'));
    for (const f of ['Procfile', 'package.json', 'server.js'])
      await copyFile(join(FIXTURES, 'hello', f), join(src, f));
    await writeFile(join(src, 'VERSION'), 'plugged');
    const packed = await packDir(src);
    tgz = await readFile(packed);
    await rm(dirname(packed), { recursive: true, force: true });
    await rm(src, { recursive: true, force: true });
    build = await deploy('viaplugin');
  });

  /** Upload the source as a build of `app` and wait for its end. */
  async function deploy(app: string) {
    let b = await api<typeof build>('POST', `/apps/${app}/builds`, tgz);
    for (let i = 0; i < 600 && b.status === 'pending'; i++) {
      await new Promise((r) => setTimeout(r, 200));
      b = await api<typeof build>('GET', `/apps/${app}/builds/${b.id}`);
    }
    return b;
  }

  after(async () => {
    LocalDynoRuntime.prototype.init = init;
    DockerDynoRuntime.create = create;
    await platform?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("runs dynos through the config file's DynoRuntime plugin and never constructs the built-in one", async () => {
    expect(build.status, build.error).to.equal('succeeded');
    const p = platform as Platform;
    // The platform loaded the plugin from the config's directory: the very module imported here.
    const { stats } = (await import(pathToFileURL(pluginFile).href)) as { stats: { constructed: number } };
    expect(stats.constructed).to.equal(1);
    expect(p.kernel.resolve(dynoRuntimeRef).constructor.name).to.equal('ProcessRuntime');
    expect(builtins).to.deep.equal({ local: 0, docker: 0 });

    // Real HTTP through the router to the process the plugin spawned.
    let body = '';
    const served = await eventually(async () => {
      const r = await routerGet(p.routerPort, 'viaplugin').catch(() => ({ status: 0, body: '' }));
      body = r.body;
      return r.status === 200;
    }, 60_000);
    expect(served, body).to.equal(true);
    expect(JSON.parse(body)).to.include({ version: 'plugged', dyno: 'web.1' });

    // The API lists the dyno, with the id the plugin's runtime gave it.
    const dynos = await api<{ id: string; name: string; state: string }[]>('GET', '/apps/viaplugin/dynos');
    expect(dynos.map((d) => [d.name, d.state])).to.deep.equal([['web.1', 'up']]);
    const running = await p.kernel.resolve(dynoRuntimeRef).list('viaplugin');
    expect(running.map((d) => d.id)).to.deep.equal([dynos[0]?.id]);
    expect(dynos[0]?.id).to.match(/^process-rt-/);
  });

  it("fires a plugin object's beforeBuild and afterBuild taps during the platform's build", () => {
    expect(taps).to.deep.equal([
      'before viaplugin server.js=true',
      'after viaplugin web=node server.js slug=yes',
    ]);
  });

  it("a beforeBuild tap in the platform refuses a build: it fails with the tap's error", async () => {
    await api('POST', '/apps', { name: 'refused' });
    taps.length = 0;
    const b = await deploy('refused');
    expect(b.status).to.equal('failed');
    expect(b.error).to.include('builds of refused are closed today');
    expect(taps).to.deep.equal(['before refused server.js=true', 'after refused web=undefined slug=no']);
  });
});
