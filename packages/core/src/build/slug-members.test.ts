/**
 * Slugs that reuse a runtime's packed member: the archive unpacks to the same tree with node-tar
 * (the platform's extractArchive), GNU tar and gunzip; a second pack of an unchanged runtime
 * (hard-linked anew, as the Node.js buildpack places it) reuses the member without packing it
 * again (and says so, for the build log); a changed runtime file makes a new member, and the old
 * one is removed.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { extractArchive } from '../archive.js';
import { packSlug } from './slug.js';
import { MEMBER_MIN_BYTES, slugMembers } from './slug-members.js';

describe('packSlug with reused runtime members', () => {
  let tmp: string;
  let layer: string;
  const limits = { maxBytes: 1 << 30 };
  /** An app dir with the runtime layer hard-linked in at `.heroku/node` (a fresh copy each time). */
  const app = async (name: string) => {
    const dir = path.join(tmp, name);
    await rm(dir, { recursive: true, force: true });
    await mkdir(path.join(dir, '.heroku'), { recursive: true });
    await writeFile(path.join(dir, 'Procfile'), 'web: node index.js\n');
    await writeFile(path.join(dir, 'index.js'), `console.log(${JSON.stringify(name)})\n`);
    execFileSync('cp', ['-al', layer, path.join(dir, '.heroku/node')]);
    return dir;
  };
  const unpack = async (slug: string, how: string) => {
    const out = path.join(tmp, `out-${how}-${Date.now()}`);
    await mkdir(out);
    if (how === 'node') await extractArchive(slug, out);
    else execFileSync('tar', ['-xzf', slug, '-C', out]);
    return out;
  };

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'slipway-members-'));
    layer = path.join(tmp, 'layer');
    await mkdir(path.join(layer, 'bin'), { recursive: true });
    await mkdir(path.join(layer, 'lib/node_modules/npm'), { recursive: true });
    // Random bytes: gzip cannot shrink them, so packing them costs what a real binary does.
    await writeFile(path.join(layer, 'bin/node'), randomBytes(MEMBER_MIN_BYTES + 1024), { mode: 0o755 });
    await writeFile(path.join(layer, 'lib/node_modules/npm/index.js'), 'module.exports = 1;\n');
    await symlink('../lib/node_modules/npm/index.js', path.join(layer, 'bin/npm'));
  });
  after(() => rm(tmp, { recursive: true, force: true }));

  it('unpacks to the same tree with node-tar, GNU tar and gunzip, and reuses the member next time', async () => {
    const members = path.join(tmp, 'members');
    const first = await packSlug(await app('one'), path.join(tmp, 'one.tgz'), limits, members);
    const cached = await readdir(members);
    expect(cached).to.have.length(1);
    // What the build log reports: packed now the first time, reused after.
    expect(first.packing?.members.map((m) => [m.name, m.reused])).to.deep.equal([['./.heroku/node', false]]);
    const before = await stat(path.join(members, cached[0] as string));
    for (const how of ['node', 'gnu']) {
      const out = await unpack(first.path, how);
      expect(await readFile(path.join(out, 'index.js'), 'utf8')).to.include('"one"');
      expect(await readFile(path.join(out, '.heroku/node/bin/node'))).to.deep.equal(
        await readFile(path.join(layer, 'bin/node')),
      );
      expect((await stat(path.join(out, '.heroku/node/bin/node'))).mode & 0o111).to.not.equal(0);
      expect(await readFile(path.join(out, '.heroku/node/bin/npm'), 'utf8')).to.include('module.exports');
    }
    execFileSync('gzip', ['-t', first.path]);
    // Another build: the runtime linked in anew, the app's code changed; the member is reused.
    const second = await packSlug(await app('two'), path.join(tmp, 'two.tgz'), limits, members);
    expect(await readdir(members)).to.deep.equal(cached);
    expect((await stat(path.join(members, cached[0] as string))).mtimeMs).to.equal(before.mtimeMs);
    expect(second.checksum).to.not.equal(first.checksum);
    expect(second.packing?.members.map((m) => [m.name, m.reused])).to.deep.equal([['./.heroku/node', true]]);
    const out = await unpack(second.path, 'node');
    expect(await readFile(path.join(out, 'index.js'), 'utf8')).to.include('"two"');
    expect((await stat(path.join(out, '.heroku/node/bin/node'))).size).to.equal(MEMBER_MIN_BYTES + 1024);
  });

  it('packs a changed runtime anew, drops the old member, and leaves small dirs in the rest', async () => {
    const members = path.join(tmp, 'members-2');
    const dir = await app('three');
    await mkdir(path.join(dir, '.profile.d'));
    await writeFile(path.join(dir, '.profile.d/node.sh'), 'export A=1\n');
    expect((await slugMembers(dir)).map((m) => m.name)).to.deep.equal(['./.heroku/node']);
    await packSlug(dir, path.join(tmp, 'three.tgz'), limits, members);
    const old = await readdir(members);
    await writeFile(path.join(dir, '.heroku/node/lib/node_modules/npm/index.js'), 'module.exports = 2;\n');
    const slug = await packSlug(dir, path.join(tmp, 'four.tgz'), limits, members);
    const now = await readdir(members);
    expect(now).to.have.length(1);
    expect(now).to.not.deep.equal(old);
    const out = await unpack(slug.path, 'node');
    expect(await readFile(path.join(out, '.heroku/node/lib/node_modules/npm/index.js'), 'utf8')).to.equal(
      'module.exports = 2;\n',
    );
    expect(await readFile(path.join(out, '.profile.d/node.sh'), 'utf8')).to.equal('export A=1\n');
  });
});
