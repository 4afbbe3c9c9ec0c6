import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { outputDigest, treeDigest } from './build-output-cache.js';

describe('nodejs buildpack: build-output digest', () => {
  it('changes with any content, name, mode or link, and ignores skipped top-level entries', async () => {
    const root = await mkdtemp(join(tmpdir(), 'slipway-tree-'));
    try {
      await mkdir(join(root, 'src'));
      await writeFile(join(root, 'src/a.js'), 'one');
      await mkdir(join(root, 'node_modules/x'), { recursive: true });
      const d0 = await treeDigest(root, ['node_modules']);
      expect(await treeDigest(root, ['node_modules'])).to.equal(d0);
      await writeFile(join(root, 'node_modules/x/index.js'), 'ignored');
      expect(await treeDigest(root, ['node_modules'])).to.equal(d0);
      await writeFile(join(root, 'src/a.js'), 'two');
      const d1 = await treeDigest(root, ['node_modules']);
      expect(d1).not.to.equal(d0);
      await chmod(join(root, 'src/a.js'), 0o755);
      const d2 = await treeDigest(root, ['node_modules']);
      expect(d2).not.to.equal(d1);
      await symlink('src/a.js', join(root, 'link'));
      expect(await treeDigest(root, ['node_modules'])).not.to.equal(d2);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('changes with config vars and the install digest, whatever the order of the vars', () => {
    const base = { source: 's', install: 'i', env: { A: '1', B: '2' }, stack: 'slipway-13' };
    const d = outputDigest(base);
    expect(outputDigest({ ...base, env: { B: '2', A: '1' } })).to.equal(d);
    expect(outputDigest({ ...base, env: { A: '1', B: '3' } })).not.to.equal(d);
    expect(outputDigest({ ...base, install: 'j' })).not.to.equal(d);
    expect(outputDigest({ ...base, source: 't' })).not.to.equal(d);
  });
});
