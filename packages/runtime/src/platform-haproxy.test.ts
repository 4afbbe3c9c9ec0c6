/**
 * The whole platform on the HAProxy data plane (`slipway start --router haproxy`): three deploys
 * of a small app through the CLI while clients keep requesting it, not one failed request (ten
 * release switches under load, with a refusing dyno, are haproxy-deploys.test.ts's, in seconds).
 * Each deploy is a build, a release and a switch of the web dynos: new servers added over the
 * stats socket, the old ones disabled and deleted once drained.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireHaproxy } from '@slipway/router/test-kit';
import { expect } from 'chai';
import {
  fixtureCopy,
  loadGenerator,
  nodeOnlyConfig,
  PlatformProcess,
  removeFixtureCopies,
} from './platform-harness.test-helper.js';

const DEPLOYS = 3;

describe('platform end to end on the HAProxy data plane', function () {
  this.timeout(300_000);
  let dataDir: string;
  let p: PlatformProcess;

  before(async function () {
    await requireHaproxy(this);
    dataDir = await mkdtemp(join(tmpdir(), 'slipway-haproxy-e2e-'));
    const config = await nodeOnlyConfig(await mkdtemp(join(tmpdir(), 'slipway-cfg-')));
    p = await PlatformProcess.start(dataDir, ['--config', config, '--router', 'haproxy']);
  });
  after(async () => {
    await p?.kill('SIGTERM');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    await removeFixtureCopies();
  });

  it(`finishes ${DEPLOYS} deploys under continuous HTTP load with zero failed requests`, async () => {
    expect(p.output).to.match(/Router: .*\(haproxy\)/);
    const src = await fixtureCopy('hello', { VERSION: 'load-0' });
    await p.ok(['apps:create', 'hx']);
    await p.ok(['deploy', src, '-a', 'hx']);
    expect((await p.hello('hx')).version).to.equal('load-0');
    // Bounded: the builds share the machine with the load.
    const load = loadGenerator(p, 'hx', 4, { pauseMs: 5 });
    const t0 = Date.now();
    for (let i = 1; i <= DEPLOYS; i++) {
      await writeFile(join(src, 'VERSION'), `load-${i}`);
      await p.ok(['deploy', src, '-a', 'hx']);
      expect((await p.hello('hx')).version).to.equal(`load-${i}`);
    }
    const stats = await load.stop();
    console.log(
      `      ${stats.ok} requests through ${DEPLOYS} deploys on HAProxy in ${Math.round((Date.now() - t0) / 1000)} s, ${stats.failed} failed`,
    );
    expect(stats.failures.slice(0, 5)).to.deep.equal([]);
    expect(stats.failed).to.equal(0);
    expect(stats.ok).to.be.greaterThan(100);
  });
});
