/**
 * An Open Service Broker from the config file's `platform.addons.osbBrokers`: its catalog's
 * services become add-ons; provision + bind set the credentials as config vars in a release;
 * destroy unbinds and deprovisions. The broker is a minimal real OSB HTTP server.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { type Platform, startPlatform } from '../platform.js';
import { miniBroker } from './mini-broker.test-helper.js';

describe('OSB brokers from platform.addons', function () {
  this.timeout(60_000);
  let dir: string;
  let p: Platform;
  let broker: Server;
  const live = new Set<string>();
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(new URL(path, p.apiUrl), {
      method,
      headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: r.status, json: (await r.json()) as any };
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-osb-'));
    await chmod(dir, 0o755);
    broker = miniBroker(live);
    await new Promise<void>((r) => broker.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(broker.address() as AddressInfo).port}`;
    await writeFile(
      join(dir, 'slipway.config.json'),
      JSON.stringify({
        defaults: false,
        plugins: [],
        platform: {
          addons: {
            osbBrokers: [
              { url, username: 'osb', password: 'osb-secret' },
              // Down at start: reported and skipped, the platform still starts.
              { url: 'http://127.0.0.1:1', username: 'osb', password: 'x' },
            ],
          },
        },
      }),
    );
    p = await startPlatform({
      dataDir: join(dir, 'data'),
      routerPort: 0,
      apiPort: 0,
      configFile: join(dir, 'slipway.config.json'),
    });
    await call('POST', '/apps', { name: 'mq' });
  });
  after(async () => {
    await p?.stop();
    broker?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports a broker that is down at start and starts anyway', () => {
    expect(p.skippedPlugins.join('\n')).to.match(/OSB broker http:\/\/127\.0\.0\.1:1: .+/);
  });

  it('provisions and binds into config vars, and destroy unbinds and deprovisions', async () => {
    const a = await call('POST', '/apps/mq/addons', { plan: 'queue:big', name: 'JOBS' });
    expect(a.status, JSON.stringify(a.json)).to.equal(201);
    expect(a.json.plan.name).to.equal('queue:big');
    const vars = (await call('GET', '/apps/mq/config-vars')).json;
    expect(vars.JOBS_URL).to.equal(`amqp://u:p@queue.test/${a.json.id}`);
    expect(vars.JOBS_VHOST).to.equal(a.json.id);
    expect(live.size).to.equal(2);
    expect((await call('DELETE', '/apps/mq/addons/JOBS')).status).to.equal(200);
    expect(live.size).to.equal(0);
    expect((await call('GET', '/apps/mq/config-vars')).json).to.deep.equal({});
  });
});
