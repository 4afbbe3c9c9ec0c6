/** What `slipway deploy` uploads: the app dir minus .git, node_modules and .gitignore'd paths. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import * as tar from 'tar';
import { packSource } from './deploy.js';

describe('deploy: packSource', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-pack-'));
    for (const d of ['.git', 'node_modules/x', 'src', 'logs', 'build'])
      await mkdir(join(dir, d), { recursive: true });
    const files: Record<string, string> = {
      'package.json': '{}',
      'src/index.js': 'x',
      '.git/HEAD': 'ref',
      'node_modules/x/index.js': 'x',
      '.gitignore': 'logs/\n*.log\n/build\n',
      'logs/a.txt': 'x',
      'debug.log': 'x',
      'build/out.js': 'x',
      'src/keep.log.txt': 'x',
    };
    for (const [f, t] of Object.entries(files)) await writeFile(join(dir, f), t);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('packs the app and leaves out VCS data, dependencies and ignored paths', async () => {
    const file = await packSource(dir);
    const names: string[] = [];
    await tar.t({ file, onentry: (e) => names.push(e.path.replace(/^\.\//, '')) });
    await rm(join(file, '..'), { recursive: true, force: true });
    const files = names.filter((n) => !n.endsWith('/') && n !== '.' && n !== '');
    expect(files.sort()).to.deep.equal(['.gitignore', 'package.json', 'src/index.js', 'src/keep.log.txt']);
  });
});
