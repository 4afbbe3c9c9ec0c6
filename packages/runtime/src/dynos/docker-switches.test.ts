/**
 * The Docker runtime's switches from the config file (`platform.docker`), through the real CLI
 * and the real engine: a wrong network mode or OCI runtime stops `slipway start` with the
 * runtime's coded error naming the value from the file; a section of the wrong shape is a
 * warning and the platform starts.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { CLI } from '../platform-harness.test-helper.js';
import { requireDocker } from './docker-test-kit.test-helper.js';

/** `slipway start` with `platform` as the config file's section; ends it `afterMs` after start. */
function start(
  dir: string,
  platform: object,
  afterMs = 60_000,
): Promise<{ code: number | null; out: string }> {
  return (async () => {
    const config = join(dir, `slipway-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(config, JSON.stringify({ plugins: [], platform }));
    return new Promise((resolve) => {
      let out = '';
      const child = execFile(
        process.execPath,
        [CLI, 'start', '--data-dir', join(dir, 'data'), '--port', '0', '--api-port', '0', '--config', config],
        { timeout: afterMs, env: { ...process.env, SLIPWAY_API_URL: '', SLIPWAY_TOKEN: '' } },
        (err) => resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, out }),
      );
      const take = (d: Buffer | string): void => {
        out += String(d);
        // The line scripts wait for: the start-up output (warnings first) is whole by then.
        if (out.includes('Apps answer:')) child.kill('SIGTERM');
      };
      child.stdout?.on('data', take);
      child.stderr?.on('data', take);
    });
  })();
}

describe('docker runtime switches from the config file (real CLI, real engine)', function () {
  this.timeout(120_000);
  let dir: string;
  before(async function () {
    await requireDocker(this, 'docker runtime switches');
    dir = await mkdtemp(join(tmpdir(), 'slipway-docker-switches-'));
    await chmod(dir, 0o755);
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a network mode other than app or dyno stops the start with the coded error naming it', async () => {
    const r = await start(dir, { runtime: 'docker', docker: { network: 'bridge-me' } });
    expect(r.code, r.out).to.equal(1);
    expect(r.out).to.include('(SLIPWAY_ERR_STACK_DOCKER_NETWORK)').and.include('bridge-me');
  });

  it('an OCI runtime the engine does not list stops the start, naming those it lists', async () => {
    const r = await start(dir, { runtime: 'docker', docker: { ociRuntime: 'no-such-oci' } });
    expect(r.code, r.out).to.equal(1);
    expect(r.out)
      .to.include('(SLIPWAY_ERR_STACK_OCI_RUNTIME)')
      .and.include('no-such-oci')
      .and.include('runc');
  });

  it('a section of the wrong shape or an unknown setting is a warning, and the platform starts', async () => {
    const r = await start(dir, {
      runtime: 'docker',
      docker: { network: 'dyno', ociRuntime: 'runc', netwrok: 'x' },
    });
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.include('platform.docker.netwrok is not a setting').and.include('Slipway is running.');
    expect(r.out).not.to.include('SLIPWAY_ERR');
  });
});
