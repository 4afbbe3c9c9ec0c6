import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineAddon, herokuManifest, isSlipwayError, Kernel, validateManifest } from '@slipway/addon-sdk';
import { expect } from 'chai';
import { mariadbManifest } from './manifest.js';
import { mariadbDefinition } from './provider.js';
import { tenantOf } from './tenants.js';

const manifestFile = fileURLToPath(new URL('../addon-manifest.json', import.meta.url));

describe('addon-mariadb: manifest and names', () => {
  it('ships addon-manifest.json equal to what the provider declares', async () => {
    const shipped = JSON.parse(await readFile(manifestFile, 'utf8'));
    expect(shipped).to.deep.equal(mariadbManifest());
    expect(validateManifest(shipped, 'addon-manifest.json').api.config_vars).to.deep.equal([
      'MARIADB_URL',
      'DATABASE_URL',
    ]);
  });

  it('declares DATABASE_URL as optional (the database_url provision option), and the base URL when given', () => {
    const m = mariadbManifest('http://127.0.0.1:5000/heroku/resources');
    expect(m.api.config_vars).to.deep.equal(['MARIADB_URL', 'DATABASE_URL']);
    expect(m.slipway?.optional_config_vars?.DATABASE_URL?.option).to.equal('database_url');
    expect(herokuManifest(m)).not.to.have.property('slipway');
    expect(m.api.production).to.deep.equal({ base_url: 'http://127.0.0.1:5000/heroku/resources' });
    expect(m.api).not.to.have.property('password');
  });

  it('derives database and user names from the resource id and refuses foreign ids', () => {
    expect(tenantOf('mariadb-0123456789abcdef')).to.deep.equal({
      database: 'db_0123456789abcdef',
      user: 'u_0123456789abcdef',
    });
    expect(() => tenantOf("mariadb-x'; DROP DATABASE mysql; --")).to.throw(/not a MariaDB add-on id/);
  });

  it('without server binaries, provisioning fails with the coded error saying what to install', async function () {
    this.timeout(30_000);
    const plugin = defineAddon(mariadbDefinition(), { log: () => {} });
    const kernel = new Kernel();
    const dataDir = await mkdtemp(join(tmpdir(), 'slipway-mariadb-nobin-'));
    try {
      await kernel.use(plugin, { dataDir, binDir: '/nonexistent/bin' });
      await kernel.start();
      const err = await kernel.hooks.provision
        .for('mariadb')
        .promise({ service: 'mariadb', uuid: 'u-1', plan: '', app: 'a', name: '', options: {} })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(isSlipwayError(err)).to.equal(true);
      const text = (err as { describe(): string }).describe();
      expect(text).to.include('no MariaDB server binaries found');
      expect((err as { hint?: string }).hint ?? text).to.include('apt-get install mariadb-server');
    } finally {
      await plugin.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
