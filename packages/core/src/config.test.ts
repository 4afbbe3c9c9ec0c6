import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { createKernel, loadPlugin } from './config.js';
import { SlipwayError } from './errors.js';

const fixtures = fileURLToPath(new URL('../test/fixtures/', import.meta.url));

async function failure(p: Promise<unknown>): Promise<SlipwayError> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(SlipwayError);
    return e as SlipwayError;
  }
  throw new Error('expected a failure');
}

describe('slipway.config loading', () => {
  it('loads plugins by path with options and applies them', async () => {
    const { kernel, file } = await createKernel({ cwd: path.join(fixtures, 'config-ok') });
    expect(file).to.match(/slipway\.config\.json$/);
    expect(kernel.plugins).to.deep.equal(['marker']);
    expect(kernel.catalog.buildpacks.get('marker')?.name).to.equal('Marker');
  });

  it('fills options a config entry leaves out from `defaults`, and leaves out what `skip` says', async () => {
    const cwd = path.join(fixtures, 'config-ok');
    const defaults = () => ({ marker: 'from-defaults.txt' });
    const { kernel } = await createKernel({
      configFile: false,
      cwd,
      plugins: ['./marker-plugin.mjs'],
      defaults,
    });
    const reasons = new Map<string, string>();
    await kernel.hooks.detect.promise({ buildDir: cwd, reasons } as never);
    expect(reasons.get('marker')).to.equal('no from-defaults.txt');
    // The entry's own options win over the defaults.
    const own = await createKernel({ cwd, defaults });
    const ownReasons = new Map<string, string>();
    await own.kernel.hooks.detect.promise({ buildDir: cwd, reasons: ownReasons } as never);
    expect(ownReasons.get('marker')).to.equal('no hello.txt');
    const skipped = await createKernel({ cwd, skip: (p) => p.name === 'marker' });
    expect(skipped.kernel.plugins).to.deep.equal([]);
  });

  it('names the plugin, the option and the file when options fail the schema', async () => {
    const e = await failure(createKernel({ cwd: path.join(fixtures, 'config-bad-options') }));
    expect(e.code).to.equal('SLIPWAY_ERR_PLUGIN_OPTIONS');
    expect(e.message).to.equal('plugin marker: option marker must be string');
    expect(e.hint).to.contain('slipway.config.json');
  });

  it('names an unknown plugin and where it was looked for', async () => {
    const e = await failure(createKernel({ cwd: path.join(fixtures, 'config-unknown-plugin') }));
    expect(e.code).to.equal('SLIPWAY_ERR_PLUGIN_NOT_FOUND');
    expect(e.message).to.contain('@acme/does-not-exist').and.contain('plugins[0]');
    expect(e.hint).to.contain('npm install @acme/does-not-exist');
  });

  it('refuses a malformed config with the field at fault', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const os = await import('node:os');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-cfg-'));
    writeFileSync(path.join(dir, 'slipway.config.json'), '{ "plugins": "nodejs" }');
    let e = await failure(createKernel({ cwd: dir }));
    expect(e.code).to.equal('SLIPWAY_ERR_CONFIG_INVALID');
    expect(e.message).to.contain('plugins must be array');
    writeFileSync(path.join(dir, 'slipway.config.json'), '{ "plugins": [], "plugns": [] }');
    e = await failure(createKernel({ cwd: dir }));
    expect(e.message).to.contain('plugns is not a known field');
    writeFileSync(path.join(dir, 'slipway.config.json'), '{ "plugins": [ ');
    e = await failure(createKernel({ cwd: dir }));
    expect(e.message).to.contain('not valid JSON');
  });

  it('adds the config to the default plugins: disable one, replace one, or keep none; resolves from the install too', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync } = await import('node:fs');
    const os = await import('node:os');
    // The platform's install: two default plugins as packages.
    const install = mkdtempSync(path.join(os.tmpdir(), 'slipway-install-'));
    const plugin = (name: string) =>
      `export default { name: '${name}', optionsSchema: { type: 'object', properties: { n: { type: 'number', default: 1 } } }, apply(k, o) { k.catalog.buildpacks.set('${name}', { id: '${name}', name: String(o.n), plugin: '${name}' }); } };\n`;
    for (const name of ['one', 'two', 'three']) {
      const dir = path.join(install, 'node_modules', '@acme', name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        path.join(dir, 'package.json'),
        JSON.stringify({ name: `@acme/${name}`, type: 'module', main: 'index.js' }),
      );
      writeFileSync(path.join(dir, 'index.js'), plugin(name));
    }
    // The config file elsewhere, naming a package only the install has.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-cfg-'));
    const file = path.join(dir, 'slipway.config.json');
    const compose = async (config: object) => {
      writeFileSync(file, JSON.stringify(config));
      const failed: string[] = [];
      const { kernel } = await createKernel({
        configFile: file,
        defaultPlugins: ['@acme/one', '@acme/two', '@acme/missing'],
        resolveFrom: install,
        onDefaultFailed: (spec) => failed.push(spec),
      });
      const names = Object.fromEntries([...kernel.catalog.buildpacks.values()].map((b) => [b.id, b.name]));
      return { plugins: kernel.plugins, names, failed };
    };
    expect(await compose({ plugins: ['@acme/three'] })).to.deep.equal({
      plugins: ['one', 'two', 'three'],
      names: { one: '1', two: '1', three: '1' },
      failed: ['@acme/missing'],
    });
    const replaced = await compose({ plugins: [['@acme/two', { n: 2 }]], disable: ['@acme/one'] });
    expect(replaced.plugins).to.deep.equal(['two']);
    expect(replaced.names).to.deep.equal({ two: '2' });
    expect((await compose({ defaults: false, plugins: ['@acme/three'] })).plugins).to.deep.equal(['three']);
    // Named by a path instead of its package name, a default is still replaced, not doubled.
    const byPath = await compose({ plugins: [[path.join(install, 'node_modules/@acme/two'), { n: 3 }]] });
    expect(byPath.plugins).to.deep.equal(['one', 'two']);
    expect(byPath.names.two).to.equal('3');
    // Without resolveFrom, a package the config's directory lacks is an error naming the entry.
    writeFileSync(file, JSON.stringify({ plugins: ['@acme/three'] }));
    const e = await failure(createKernel({ configFile: file }));
    expect(e.code).to.equal('SLIPWAY_ERR_PLUGIN_NOT_FOUND');
    expect(e.message).to.contain('plugins[0]');
  });

  it('refuses a module that is not a plugin', async () => {
    const e = await failure(loadPlugin('node:path', fixtures));
    expect(e.code).to.equal('SLIPWAY_ERR_PLUGIN_INVALID');
  });
});
