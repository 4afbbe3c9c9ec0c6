/**
 * `slipway new buildpack|addon` and the examples must not drift apart: scaffold one of each
 * with the SDKs' own scaffolders and compare its shape (file set, package.json fields and
 * scripts, effective tsconfig, test style, README sections) with examples/buildpack-rust and
 * examples/addon-mariadb. Rendering only; the SDKs' and the CLI's tests install and run scaffolds.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scaffoldAddon } from '@slipway/addon-sdk';
import { scaffoldBuildpack } from '@slipway/buildpack-sdk';
import { expect } from 'chai';
import { type PackageShape, packageShape } from './testing/package-shape.js';
import { PACKAGE_DIR } from './testing/platform.js';

const example = (name: string) => join(PACKAGE_DIR, '..', name);

describe('scaffolds have the shape of the examples', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'slipway-parity-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  const compare = (scaffolded: PackageShape, ex: PackageShape) => {
    // Field by field, so a failure names the part that drifted.
    for (const key of Object.keys(ex) as (keyof PackageShape)[])
      expect(scaffolded[key], `${key} of the scaffold vs the example`).to.deep.equal(ex[key]);
  };

  it('slipway new buildpack ≈ examples/buildpack-rust', async () => {
    const r = await scaffoldBuildpack({
      name: '@acme/buildpack-zig',
      dir: join(root, 'zig'),
      sdkDependency: '^0.1.0',
    });
    const scaffolded = await packageShape(r.dir, 'buildpack', r.id);
    const ex = await packageShape(example('buildpack-rust'), 'buildpack', 'rust');
    expect(ex.sources).to.deep.equal(['src/index.ts']);
    expect(ex.hasFixtures).to.equal(true);
    compare(scaffolded, ex);
  });

  it('slipway new addon ≈ examples/addon-mariadb', async () => {
    const r = await scaffoldAddon({
      name: '@acme/addon-memcached',
      dir: join(root, 'memcached'),
      sdkDependency: '^0.1.0',
    });
    const scaffolded = await packageShape(r.dir, 'addon', r.id);
    const ex = await packageShape(example('addon-mariadb'), 'addon', 'mariadb');
    expect(ex.sources).to.have.length(4);
    expect(ex.tests.usesHarness).to.equal(true);
    compare(scaffolded, ex);
  });
});
