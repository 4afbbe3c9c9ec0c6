/**
 * The Docker runtime's choice of OCI runtime against the real engine: a name the engine does not
 * list is refused with a coded error naming those it lists; a listed one is taken as asked;
 * `auto` takes crun only when the engine lists it and a container of the stack image runs with
 * it (crun 1.8 refuses hosts with controllers on both cgroup hierarchies), else the default
 * with a note saying why.
 */
import { expect } from 'chai';
import type Docker from 'dockerode';
import { DEFAULT_STACK } from '../stack/stack-packages.js';
import { chooseOciRuntime } from './docker-oci-runtime.js';
import { requireDocker } from './docker-test-kit.test-helper.js';

describe('docker runtime: OCI runtime choice (real engine)', function () {
  this.timeout(60_000);
  let docker: Docker;
  const image = `slipway/stack:${DEFAULT_STACK}`;

  before(async function () {
    await requireDocker(this, 'docker OCI runtime choice');
    docker = new (await import('dockerode')).default();
  });

  it('refuses a runtime the engine does not list, naming those it does; takes a listed one as asked', async () => {
    const e = await chooseOciRuntime(docker, image, 'no-such-runtime').catch((x) => x);
    expect(e.code).to.equal('SLIPWAY_ERR_STACK_OCI_RUNTIME');
    expect(e.message)
      .to.match(/no-such-runtime/)
      .and.match(/runc/);
    expect(await chooseOciRuntime(docker, image, 'runc')).to.deep.equal({ name: 'runc' });
  });

  it('takes crun on auto only where the engine lists it and it runs a container here', async () => {
    const listed = Object.keys(((await docker.info()) as { Runtimes?: object }).Runtimes ?? {});
    const choice = await chooseOciRuntime(docker, image);
    if (!listed.includes('crun')) {
      expect(choice).to.deep.equal({ name: undefined });
      return;
    }
    if (choice.name === 'crun') {
      // It runs here: a container of the stack image with it exits 0.
      const c = await docker.createContainer({
        Image: image,
        Cmd: ['sh', '-c', 'exit 0'],
        HostConfig: { Runtime: 'crun', NetworkMode: 'none' },
      });
      try {
        await c.start();
        expect(((await c.wait()) as { StatusCode: number }).StatusCode).to.equal(0);
      } finally {
        await c.remove({ force: true }).catch(() => {});
      }
    } else {
      expect(choice.name).to.equal(undefined);
      expect(choice.note).to.match(/crun is registered with the engine but cannot run containers here/);
    }
    // The probe runs once per engine and image in a process.
    expect(await chooseOciRuntime(docker, image)).to.equal(choice);
  });
});
