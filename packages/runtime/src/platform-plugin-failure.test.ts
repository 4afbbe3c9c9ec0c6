/**
 * A plugin that cannot run stops the platform's start cleanly: a missing service, bad options
 * (every problem listed) and a throwing `start` each reject `startPlatform` with a coded error,
 * leave nothing running (the mail add-on's SMTP daemon it had started, listeners, dyno
 * runtime) and release the data-dir lock, so the next start on the same dir succeeds.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServiceRef, definePlugin, type Plugin, type SlipwayError } from '@slipway/core';
import { expect } from 'chai';
import { startPlatform } from './platform.js';
import { lockDataDir } from './state/data-dir-lock.js';

const MAIL = fileURLToPath(new URL('../../addons/mail', import.meta.url));

/** Whether something accepts TCP connections on 127.0.0.1:port. */
const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** TCP servers and sockets this process holds (the platform runs in it). */
const tcpHandles = () => process.getActiveResourcesInfo().filter((r) => r.startsWith('TCP')).length;

describe('platform start that a plugin stops', function () {
  this.timeout(180_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-plugin-fail-'));
    await chmod(dir, 0o755);
    await writeFile(join(dir, 'slipway.config.json'), JSON.stringify({ defaults: false, plugins: [MAIL] }));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Start with the mail add-on and `plugin`; expect the start to fail and nothing to be left. */
  async function failingStart(name: string, plugin: Plugin<any>, options?: Record<string, unknown>) {
    const dataDir = join(dir, name);
    const handles = tcpHandles();
    const started = Date.now();
    const err = (await startPlatform({
      dataDir,
      routerPort: 0,
      apiPort: 0,
      configFile: join(dir, 'slipway.config.json'),
      runtime: 'local',
      plugins: [options ? [plugin, options] : plugin],
    }).then(
      (p) => p.stop().then(() => undefined),
      (e: unknown) => e,
    )) as SlipwayError | undefined;
    expect(err, 'the start should have failed').to.not.equal(undefined);
    expect(Date.now() - started).to.be.lessThan(60_000);
    // No listener or socket of the platform is left in this process.
    expect(tcpHandles(), process.getActiveResourcesInfo().join(' ')).to.be.at.most(handles);
    // The mail add-on's SMTP daemon, when its start ran, is stopped, and its port is closed.
    const mailDir = join(dataDir, 'addons', 'mail');
    const pid = Number((await readFile(join(mailDir, 'smtp.pid'), 'utf8').catch(() => '')).trim());
    if (pid) {
      for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
      expect(alive(pid), `SMTP daemon ${pid} still runs`).to.equal(false);
    }
    const server = JSON.parse(await readFile(join(mailDir, 'server.json'), 'utf8').catch(() => '{}'));
    if (typeof server.port === 'number') expect(await listening(server.port)).to.equal(false);
    // The lock is released: the data dir can be taken again at once.
    const lock = await lockDataDir(dataDir);
    await lock.release();
    return err as SlipwayError;
  }

  it('names the plugin and the service when a service it needs has no provider', async () => {
    const ref = createServiceRef<{ send(): void }>('Pager');
    const e = await failingStart(
      'missing',
      definePlugin({ name: 'needs-pager', needs: [ref], register() {} }),
    );
    expect(e.code).to.equal('SLIPWAY_ERR_SERVICE_MISSING');
    expect(e.message).to.equal('no Pager service is registered (plugin needs-pager needs it)');
  });

  it('lists every problem of bad options in one coded error', async () => {
    const picky = definePlugin<{ port: number; host: string }>({
      name: 'picky',
      optionsSchema: {
        type: 'object',
        required: ['host'],
        properties: { port: { type: 'integer' }, host: { type: 'string' } },
        additionalProperties: false,
      },
      register() {},
    });
    const e = await failingStart('options', picky, { port: 'eighty', colour: 'red' });
    expect(e.code).to.equal('SLIPWAY_ERR_PLUGIN_OPTIONS');
    expect(e.message).to.include('option port must be integer');
    expect(e.message).to.include('option host is required');
    expect(e.message).to.include('option colour is not a known field');
  });

  it('stops the add-on servers already started when a later start throws', async () => {
    const e = await failingStart(
      'throws',
      definePlugin({
        name: 'explodes',
        register() {},
        start() {
          throw new Error('cannot reach the pager service');
        },
      }),
    );
    expect(e.code).to.equal('SLIPWAY_ERR_PLUGIN_FAILED');
    expect(e.plugin).to.equal('explodes');
    expect(e.message).to.equal('start failed: cannot reach the pager service');
    // The mail add-on had started (its start runs first): the checks above saw its SMTP port closed.
    expect(existsSync(join(dir, 'throws', 'addons', 'mail', 'server.json'))).to.equal(true);
  });
});
