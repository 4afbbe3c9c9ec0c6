/**
 * Remote add-on providers registered at run time through the CLI and the API: a partner-API
 * provider (a real `serveAddon` server) and an Open Service Broker are added, listed, offer
 * their services and plans, provision, survive a platform restart, are refused removal while
 * attached, and go again.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AddonDefinition, type AddonServer, manifestOf, serveAddon } from '@slipway/addon-sdk';
import { expect } from 'chai';
import { nodeOnlyConfig, PlatformProcess } from '../platform-harness.test-helper.js';
import { miniBroker } from './mini-broker.test-helper.js';

/** A partner-API provider handing out one URL per resource. */
const memo: AddonDefinition<Record<string, unknown>, undefined> = {
  id: 'memo',
  name: 'Memo',
  plans: [
    { name: 'dev', default: true },
    { name: 'pro', description: 'more memos' },
  ],
  configVars: ['MEMO_URL'],
  async provision(req) {
    return { id: `m-${req.uuid.slice(0, 8)}`, config: { MEMO_URL: `http://memo.test/${req.plan}` } };
  },
  async deprovision() {},
};

describe('add-on providers registered at run time (addons:providers:add, a partner API and an OSB broker)', function () {
  this.timeout(180_000);
  let dir: string;
  let config: string;
  let p: PlatformProcess | undefined;
  let partner: AddonServer;
  let broker: Server;
  const live = new Set<string>();
  const json = async (args: string[]) => JSON.parse(await p!.ok([...args, '--json']));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-providers-'));
    await chmod(dir, 0o755);
    partner = await serveAddon(memo, { password: 'memo-secret', dataDir: join(dir, 'memo'), log: () => {} });
    await writeFile(join(dir, 'memo-manifest.json'), JSON.stringify(manifestOf(memo)));
    broker = miniBroker(live);
    await new Promise<void>((r) => broker.listen(0, '127.0.0.1', r));
    config = await nodeOnlyConfig(dir);
    p = await PlatformProcess.start(join(dir, 'data'), ['--config', config]);
    await p.ok(['apps:create', 'notes']);
  });
  after(async () => {
    await p?.kill();
    await partner?.close();
    broker?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('adds a partner-API provider and an OSB broker, and lists their services and plans', async () => {
    const manifest = join(dir, 'memo-manifest.json');
    const added = await p!.ok([
      'addons:providers:add',
      manifest,
      '--url',
      partner.url,
      '--password',
      'memo-secret',
    ]);
    expect(added).to.include('Added add-on provider memo: memo');
    const brokerUrl = `http://127.0.0.1:${(broker.address() as AddressInfo).port}`;
    const osb = ['addons:providers:add', '--osb', brokerUrl, '--username', 'osb', '--password', 'osb-secret'];
    expect(await p!.ok([...osb, '--name', 'mq'])).to.include('Added add-on provider mq: queue');

    const providers = await json(['addons:providers']);
    expect(providers.map((x: { name: string }) => x.name)).to.include.members(['memo', 'mq']);
    expect(providers.find((x: { name: string }) => x.name === 'memo')).to.include({
      kind: 'partner',
      source: 'api',
    });
    const services = await json(['addons:services']);
    expect(services.map((s: { name: string }) => s.name)).to.have.members(['memo', 'queue']);
    const plans = await json(['addons:plans', 'memo']);
    expect(plans.map((x: { name: string; default: boolean }) => [x.name, x.default])).to.deep.equal([
      ['memo:dev', true],
      ['memo:pro', false],
    ]);
    expect(await p!.ok(['addons:plans', 'queue'])).to.include('queue:big');

    // Refused: the same name again, a wrong password (the provider is asked nothing until used,
    // so a name taken is what the platform can check), and a missing manifest.
    const again = await p!.cli(['addons:providers:add', manifest, '--url', partner.url, '--password', 'x']);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.include('SLIPWAY_ERR_RUNTIME_PROVIDER').and.include('already registered');
    const missing = await p!.cli(['addons:providers:add', join(dir, 'nope.json'), '--password', 'x']);
    expect(missing.stderr).to.include('SLIPWAY_ERR_CLI_PROVIDER_MANIFEST');
  });

  it("provisions from it, and a bad plan's hint names the service's real plans", async () => {
    const bad = await p!.cli(['addons:create', 'memo:huge', '-a', 'notes']);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.include('no plan huge (plans: dev, pro)').and.include('e.g. memo:pro');
    expect(bad.stderr).not.to.include('postgres');
    await p!.ok(['addons:create', 'memo:pro', '-a', 'notes']);
    expect((await json(['config', '-a', 'notes'])).MEMO_URL).to.equal('http://memo.test/pro');
    await p!.ok(['addons:create', 'queue:small', '-a', 'notes', '--as', 'JOBS']);
    expect(live.size).to.equal(2);
  });

  it('keeps registered providers across a restart, and says so at start', async () => {
    await p!.kill();
    p = await PlatformProcess.start(join(dir, 'data'), ['--config', config]);
    expect(p.output).to.match(
      /Add-on providers:[\s\S]*memo \(partner, added with addons:providers:add\): memo/,
    );
    expect(p.output).to.match(/mq \(osb, added with addons:providers:add\): queue/);
    expect((await json(['addons:services'])).map((s: { name: string }) => s.name)).to.include('memo');
  });

  it('refuses to remove a provider whose add-ons are attached, then removes it', async () => {
    const refused = await p!.cli(['addons:providers:remove', 'memo']);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.include('MEMO on notes');
    await p!.ok(['addons:destroy', 'MEMO', '-a', 'notes']);
    await p!.ok(['addons:destroy', 'JOBS', '-a', 'notes']);
    expect(live.size).to.equal(0);
    expect(await p!.ok(['addons:providers:remove', 'memo'])).to.include(
      'Removed add-on provider memo (memo)',
    );
    await p!.ok(['addons:providers:remove', 'mq']);
    expect(await json(['addons:services'])).to.deep.equal([]);
    const gone = await p!.cli(['addons:create', 'memo', '-a', 'notes']);
    expect(gone.stderr).to.include('no such add-on service');
    const unknown = await p!.cli(['addons:providers:remove', 'memo']);
    expect(unknown.stderr).to.include('no provider of that name');
  });
});
