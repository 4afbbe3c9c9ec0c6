import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { listTree, removedPaths, replayRemovals } from './prune-replay.js';

describe('nodejs buildpack: prune replay', () => {
  it('keeps only the top-most removed paths', () => {
    const before = new Set(['a', 'a/x', 'a/x/y', 'b', 'b/k', 'c', '.bin', '.bin/tool']);
    const after = new Set(['b', 'c', '.bin']);
    expect(removedPaths(before, after)).to.deep.equal(['.bin/tool', 'a', 'b/k']);
  });

  it('lists a real tree and deletes exactly what was recorded, never outside it', async () => {
    const root = await mkdtemp(join(tmpdir(), 'slipway-prune-'));
    try {
      await mkdir(join(root, 'dev-only/lib'), { recursive: true });
      await mkdir(join(root, 'prod'), { recursive: true });
      await mkdir(join(root, '.bin'), { recursive: true });
      await writeFile(join(root, 'dev-only/lib/index.js'), '');
      await writeFile(join(root, 'prod/index.js'), '');
      await symlink('../dev-only/lib/index.js', join(root, '.bin/dev-tool'));
      const tree = await listTree(root);
      expect([...tree].sort()).to.deep.equal([
        '.bin',
        '.bin/dev-tool',
        'dev-only',
        'dev-only/lib',
        'dev-only/lib/index.js',
        'prod',
        'prod/index.js',
      ]);
      await replayRemovals(root, ['dev-only', '.bin/dev-tool', '../outside']);
      expect([...(await listTree(root))].sort()).to.deep.equal(['.bin', 'prod', 'prod/index.js']);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
