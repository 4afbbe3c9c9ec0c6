import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { buildpackIdFromName, scaffoldBuildpack } from './scaffold.js';

describe('scaffoldBuildpack (rendering; the CLI test runs npm install && npm test on one)', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'slipway-scaffold-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('derives the id from the package name', () => {
    expect(buildpackIdFromName('@acme/buildpack-rust')).to.equal('rust');
    expect(buildpackIdFromName('slipway-buildpack-php')).to.equal('php');
    expect(buildpackIdFromName('acme-static')).to.equal('acme-static');
  });

  it('renders a package with a marker file named after a non-static buildpack', async () => {
    const dir = join(root, 'rust');
    const r = await scaffoldBuildpack({ name: '@acme/buildpack-rust', dir, sdkDependency: '^0.1.0' });
    expect(r.id).to.equal('rust');
    expect(r.files).to.include.members([
      '.gitignore',
      'package.json',
      'src/index.ts',
      'test/fixtures/app/.rust',
    ]);
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
    expect(pkg.name).to.equal('@acme/buildpack-rust');
    expect(pkg.dependencies).to.deep.equal({ '@slipway/buildpack-sdk': '^0.1.0' });
    const src = await readFile(join(dir, 'src/index.ts'), 'utf8');
    expect(src).to.include("id: 'rust'");
    expect(src).to.include("ctx.exists('.rust')");
  });

  it('refuses bad names and non-empty directories', async () => {
    const bad = await scaffoldBuildpack({ name: 'Not Valid', dir: join(root, 'a') }).catch((e) => e);
    expect(bad.code).to.equal('SLIPWAY_ERR_BUILDPACK_NAME');
    await writeFile(join(root, 'taken'), 'x');
    const full = await scaffoldBuildpack({ name: 'ok', dir: root }).catch((e) => e);
    expect(full.code).to.equal('SLIPWAY_ERR_BUILDPACK_SCAFFOLD');
  });
});
