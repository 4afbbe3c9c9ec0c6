/**
 * The Docker runtime's per-app network namespaces against a real engine: an app's dynos share
 * its one address, each on its own port, and another app's one-off cannot reach them (the
 * bridge keeps apps apart); a holder removed by hand ends its app's dynos (the next start makes
 * a new one); an app with no container left loses its holder; containers carry no log driver
 * and run with the OCI runtime the runtime chose (crun where it works here).
 */
import type { DynoHandle, DynoSpec, SlugRef } from '@slipway/core';
import { expect } from 'chai';
import type Docker from 'dockerode';
import type { FsSlugStore } from '../state/fs-slug-store.js';
import { NETNS_ROLE } from './docker-app-netns.js';
import { DockerDynoRuntime } from './docker-runtime.js';
import { dynoGet, removePlatformContainers, requireDocker } from './docker-test-kit.test-helper.js';
import type { DynoExit } from './dyno-process.js';
import { FIXTURE_TYPES, packSlug, tempDataDir, waitFor } from './dyno-test-kit.test-helper.js';

const size = { name: 'standard-1x', memoryMb: 512 };

describe('docker runtime: one network namespace per app (real engine)', function () {
  this.timeout(180_000);
  let data: Awaited<ReturnType<typeof tempDataDir>>;
  let store: FsSlugStore;
  let slug: SlugRef;
  let rt: DockerDynoRuntime;
  let docker: Docker;
  const exits: [DynoHandle, DynoExit][] = [];
  const web = (app: string, index: number): DynoSpec => ({
    app,
    release: 1,
    type: 'web',
    index,
    command: FIXTURE_TYPES.web,
    env: {},
    size,
    slug,
  });
  const holders = async (app: string) =>
    docker.listContainers({
      all: true,
      filters: {
        label: [`slipway.platform=${rt.platformId}`, `slipway.app=${app}`, `slipway.role=${NETNS_ROLE}`],
      },
    });
  /** Run `script` in an attached one-off of `app`; its output. */
  const oneOff = async (app: string, script: string) => {
    const s = await rt.runOnce({ ...web(app, 1), type: 'run', attach: true, command: script });
    let out = '';
    s.stdout.on('data', (c: Buffer) => (out += c.toString()));
    await s.exited;
    return out;
  };

  before(async function () {
    await requireDocker(this, 'docker runtime app namespaces');
    data = await tempDataDir('slipway-netns-');
    ({ store, slug } = await packSlug(data.dir));
    rt = await DockerDynoRuntime.create({ dataDir: data.dir, slugStore: store, networkIdleMs: 1500 });
    rt.on('exit', (h: DynoHandle, _c, _s, info: DynoExit) => exits.push([h, info]));
    docker = new (await import('dockerode')).default();
  });
  after(async () => {
    await rt?.close(0);
    if (data) await removePlatformContainers(data.dir);
    await data?.cleanup();
  });

  it("shares an app's address among its dynos, each on its own port; another app cannot reach them", async () => {
    const [a1, a2, b1] = await Promise.all([
      rt.start(web('na', 1)),
      rt.start(web('na', 2)),
      rt.start(web('nb', 1)),
    ]);
    expect(a2.host).to.equal(a1.host);
    expect(a2.port).not.to.equal(a1.port);
    expect(b1.host).not.to.equal(a1.host);
    for (const h of [a1, a2, b1])
      await waitFor(`${h.app} ${h.index} to answer`, () => dynoGet(h), 30_000, 100);
    expect(await dynoGet(a2)).to.match(/web\.2/);
    expect(await holders('na')).to.have.length(1);
    // Controls: a one-off of nb reaches its own dyno through the shared loopback and the address.
    const out = await oneOff(
      'nb',
      [
        `curl -s -m 3 http://127.0.0.1:${b1.port}/ | grep -q web.1 && echo CONTROL-LOOPBACK`,
        `curl -s -m 3 -o /dev/null http://${b1.host}:${b1.port}/ && echo CONTROL-ADDRESS`,
        `curl -s -m 3 -o /dev/null http://${a1.host}:${a1.port}/ && echo LEAK-PORT`,
        'echo checked',
      ].join('; '),
    );
    expect(out)
      .to.match(/CONTROL-LOOPBACK/)
      .and.match(/CONTROL-ADDRESS/)
      .and.match(/checked/);
    expect(out).not.to.match(/LEAK/);
    // No second copy of the output on the engine's disk, and the runtime the probe chose.
    const info = await docker.getContainer(a1.id).inspect();
    expect(info.HostConfig.LogConfig?.Type).to.equal('none');
    expect(info.HostConfig.Runtime).to.equal(rt.ociRuntime.name ?? 'runc');
    await Promise.all([a1, a2, b1].map((h) => rt.stop(h, 0)));
  });

  it("ends an app's dynos when its holder is removed by hand; the next start makes a new one; an idle app's goes", async () => {
    const d1 = await rt.start(web('nc', 1));
    await waitFor('the dyno to answer', () => dynoGet(d1), 30_000, 100);
    const [holder] = await holders('nc');
    await docker.getContainer(holder!.Id).remove({ force: true });
    await waitFor('the cut-off dyno to exit', () => exits.some(([h]) => h.id === d1.id), 30_000, 100);
    const d2 = await rt.start(web('nc', 1));
    expect(await waitFor('the new dyno to answer', () => dynoGet(d2), 30_000, 100)).to.match(/web\.1/);
    const [again] = await holders('nc');
    expect(again?.Id).not.to.equal(holder!.Id);
    await rt.stop(d2, 0);
    await waitFor('the idle holder to go', async () => (await holders('nc')).length === 0, 30_000, 200);
  });
});
