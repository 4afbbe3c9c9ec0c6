/**
 * The stack recipe and its cache: the digest that decides a rebuild, the mirror read from the
 * machine's apt sources, and a second `stack:build` that finds the roots and images current
 * (the first build, ~2 min of debootstrap, is made once per machine by scripts/stack-setup).
 */
import { expect } from 'chai';
import { requireDocker } from '../dynos/docker-test-kit.test-helper.js';
import { aptMirror, buildStack } from './stack-builder.js';
import { DEFAULT_STACK, RUN_PACKAGES, STACKS, stackVariants } from './stack-packages.js';

describe('stack recipe and cache', function () {
  this.timeout(120_000);

  it('digests the suite, mirror and package set: any change rebuilds, nothing else does', () => {
    const [run, build] = stackVariants(DEFAULT_STACK, 'trixie', 'http://deb.debian.org/debian');
    expect(run!.image).to.equal(`slipway/stack:${DEFAULT_STACK}`);
    expect(build!.image).to.equal(`slipway/stack:${DEFAULT_STACK}-build`);
    expect(build!.packages).to.include.members([...RUN_PACKAGES, 'build-essential', 'libpq-dev']);
    const again = stackVariants(DEFAULT_STACK, 'trixie', 'http://deb.debian.org/debian');
    expect(again.map((v) => v.digest)).to.deep.equal([run!.digest, build!.digest]);
    expect(stackVariants(DEFAULT_STACK, 'forky', 'http://deb.debian.org/debian')[0]!.digest).to.not.equal(
      run!.digest,
    );
    expect(stackVariants(DEFAULT_STACK, 'trixie', 'http://mirror.example/debian')[0]!.digest).to.not.equal(
      run!.digest,
    );
  });

  it('makes slipway-14 from Debian testing with the same recipe, its renamed libraries swapped in', () => {
    expect(STACKS['slipway-14']?.suite).to.equal('testing');
    const [run13] = stackVariants(DEFAULT_STACK, 'trixie', 'http://deb.debian.org/debian');
    const [run14, build14] = stackVariants('slipway-14', 'testing', 'http://deb.debian.org/debian');
    expect(run13!.packages).to.deep.equal(RUN_PACKAGES);
    expect(run14!.image).to.equal('slipway/stack:slipway-14');
    expect(run14!.packages).to.include.members(['libicu78', 'libxml2-16', 'libsodium26', 'libpq5', 'tini']);
    expect(run14!.packages).to.not.include.members(['libicu76', 'libxml2', 'libsodium23']);
    expect(build14!.packages).to.include.members(['libicu-dev', 'build-essential']);
    expect(run14!.packages).to.have.length(RUN_PACKAGES.length);
  });

  it("reads the Debian mirror from the machine's apt sources", async () => {
    expect(await aptMirror()).to.match(/^https?:\/\/\S+\/debian$/);
  });

  it('refuses an unknown stack name with a coded error', async () => {
    const e = await buildStack({ name: 'heroku-18', docker: false }).catch((x) => x);
    expect(e.code).to.equal('SLIPWAY_ERR_STACK_UNKNOWN');
  });

  it('finds the cached roots and the imported images current on a second build', async function () {
    await requireDocker(this, 'stack cache');
    const lines: string[] = [];
    const t0 = Date.now();
    const r = await buildStack({ onProgress: (l) => lines.push(l) });
    expect(r.variants.map((v) => [v.kind, v.built, v.docker])).to.deep.equal([
      ['run', false, 'current'],
      ['build', false, 'current'],
    ]);
    expect(lines.join('\n')).to.match(/root is current/);
    expect(Date.now() - t0).to.be.lessThan(30_000);
  });
});
