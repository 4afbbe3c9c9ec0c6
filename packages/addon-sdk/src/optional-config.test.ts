import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kernel, type ProvisionRequest } from '@slipway/core';
import { expect } from 'chai';
import { runConformance } from './conformance.js';
import { defineAddon } from './define-addon.js';
import type { AddonDefinition } from './definition.js';
import { herokuManifest, manifestProblems, optionAsked } from './manifest.js';
import { type AddonServer, serveAddon } from './serve-addon.js';

/** A provider whose DATABASE_URL alias is set only when `-- --database_url` asks for it. */
function withOptionalUrl(always = false): AddonDefinition {
  return {
    id: 'kvdb',
    name: 'KV DB',
    plans: ['dev'],
    configVars: ['KVDB_URL'],
    optionalConfigVars: { DATABASE_URL: { option: 'database_url', description: 'KVDB_URL, again' } },
    provision(req) {
      const url = `kv://127.0.0.1/${req.uuid}`;
      const asked = always || optionAsked(req.options.database_url);
      return { id: `kv-${req.uuid}`, config: { KVDB_URL: url, ...(asked ? { DATABASE_URL: url } : {}) } };
    },
    deprovision() {},
  };
}

describe('addon-sdk optional config vars', function () {
  this.timeout(30_000);
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'addon-sdk-optional-'));
  });
  afterEach(() => rm(dataDir, { recursive: true, force: true }));

  const req = (options: Record<string, unknown>, uuid = 'u-1'): ProvisionRequest => ({
    service: 'kvdb',
    plan: 'dev',
    uuid,
    app: 'app',
    name: '',
    options,
  });

  it('declares them in api.config_vars and under the slipway extension, which herokuManifest leaves out', () => {
    const m = defineAddon(withOptionalUrl()).manifest;
    expect(m.api.config_vars).to.deep.equal(['KVDB_URL', 'DATABASE_URL']);
    expect(m.slipway?.optional_config_vars).to.deep.equal({
      DATABASE_URL: { option: 'database_url', description: 'KVDB_URL, again' },
    });
    expect(manifestProblems(m)).to.deep.equal([]);
    const heroku = herokuManifest(m);
    expect(heroku).to.not.have.property('slipway');
    expect(heroku.api.config_vars).to.deep.equal(['KVDB_URL', 'DATABASE_URL']);
  });

  it('validation names an optional var missing from config_vars and a bad option name', () => {
    const base = herokuManifest(defineAddon(withOptionalUrl()).manifest);
    const notListed = manifestProblems({
      ...base,
      api: { config_vars: ['KVDB_URL'] },
      slipway: { optional_config_vars: { DATABASE_URL: { option: 'database_url' } } },
    });
    expect(notListed[0]?.field).to.equal('slipway.optional_config_vars.DATABASE_URL');
    const badOption = manifestProblems({
      ...base,
      slipway: { optional_config_vars: { DATABASE_URL: { option: 'Database URL' } } },
    });
    expect(badOption[0]?.field).to.contain('optional_config_vars');
  });

  it('Heroku-style option values: "true" and values ask, "false", "0" and "" do not', () => {
    expect(['true', 'yes', true, 1].map(optionAsked)).to.deep.equal([true, true, true, true]);
    expect(['false', '0', '', false, 0, undefined].map(optionAsked)).to.deep.equal(Array(6).fill(false));
  });

  it('returns the var only when the provision option asks, and refuses a provider that always sets it', async () => {
    const kernel = new Kernel();
    await kernel.use(defineAddon(withOptionalUrl(), { log: () => {} }), { dataDir });
    await kernel.start();
    const plain = await kernel.hooks.provision.for('kvdb').promise(req({}, 'u-plain'));
    expect(Object.keys(plain?.config ?? {})).to.deep.equal(['KVDB_URL']);
    const asked = await kernel.hooks.provision.for('kvdb').promise(req({ database_url: 'true' }, 'u-asked'));
    expect(Object.keys(asked?.config ?? {})).to.deep.equal(['KVDB_URL', 'DATABASE_URL']);

    const bad = new Kernel();
    await bad.use(defineAddon(withOptionalUrl(true), { log: () => {} }), { dataDir: join(dataDir, 'bad') });
    await bad.start();
    const err = await bad.hooks.provision
      .for('kvdb')
      .promise(req({}))
      .catch((e: unknown) => e as { code?: string; message: string });
    expect(err).to.include({ code: 'SLIPWAY_ERR_ADDON_CONFIG_NOT_ASKED' });
    expect((err as { message: string }).message).to.contain('provision option "database_url"');
  });

  it('the conformance kit checks each optional var, in-process and over the partner API', async () => {
    const good = await runConformance(withOptionalUrl());
    expect(good.checks.filter((c) => !c.ok)).to.deep.equal([]);
    expect(good.checks.find((c) => c.name.startsWith('optional'))?.detail).to.equal(
      'DATABASE_URL with database_url',
    );
    const always = await runConformance(withOptionalUrl(true));
    expect(always.ok).to.equal(false);
    // The SDK's own result check refuses it first, naming the var and the option.
    expect(always.checks.find((c) => c.name.startsWith('provision'))?.detail).to.contain(
      'DATABASE_URL, which is set only when provision option "database_url"',
    );
    let server: AddonServer | undefined;
    try {
      server = await serveAddon(withOptionalUrl(), {
        port: 0,
        password: 'conformance-secret',
        dataDir,
        log: () => {},
      });
      const remote = await runConformance({
        url: server.url,
        manifest: defineAddon(withOptionalUrl()).manifest,
        password: 'conformance-secret',
      });
      expect(remote.checks.filter((c) => !c.ok)).to.deep.equal([]);
    } finally {
      await server?.close();
    }
  });
});
