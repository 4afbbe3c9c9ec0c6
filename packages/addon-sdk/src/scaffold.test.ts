import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { scaffoldAddon } from './scaffold.js';

const run = promisify(execFile);

describe('addon-sdk scaffoldAddon', function () {
  this.timeout(240_000);
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'addon-sdk-scaffold-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('generates a provider package whose `npm install && npm test` passes', async () => {
    const dir = join(root, 'memo');
    const r = await scaffoldAddon({ name: '@acme/addon-memo', dir });
    expect(r.id).to.equal('memo');
    expect(r.files).to.have.members([
      '.gitignore',
      'README.md',
      'addon-manifest.json',
      'package.json',
      'src/index.ts',
      'src/kv-server.ts',
      'src/main.ts',
      'src/manifest.ts',
      'src/provider.test.ts',
      'src/provider.ts',
      'tsconfig.json',
    ]);
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
    expect(pkg.name).to.equal('@acme/addon-memo');
    // Publishable: a range of the SDK's version. No registry here has the SDK (the fresh-clone
    // journey test publishes it to one), so this install takes it from the checkout.
    const sdk = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    expect(pkg.dependencies['@slipway/addon-sdk']).to.equal(`^${sdk.version}`);
    pkg.dependencies['@slipway/addon-sdk'] = `file:${fileURLToPath(new URL('..', import.meta.url))}`;
    await writeFile(join(dir, 'package.json'), JSON.stringify(pkg));
    expect(pkg.bin).to.deep.equal({ 'slipway-addon-memo': './dist/main.js' });
    expect(await readFile(join(dir, 'src/provider.ts'), 'utf8')).to.contain("configVars: ['MEMO_URL']");
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    // Under the root `npm test`, npm_* variables (local prefix, workspace) describe the monorepo;
    // the generated package must be installed as a project of its own.
    const env: Record<string, string | undefined> = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)),
    );
    env.npm_config_loglevel = 'error';
    await run(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: dir, env });
    const { stdout } = await run(npm, ['test'], { cwd: dir, env });
    // The conformance kit's checks, the manifest, in-process use and the partner API.
    expect(stdout).to.contain('10 passing');
    expect(stdout).not.to.contain('failing');
  });

  it('refuses a bad name, a bad id and a non-empty directory with a coded error', async () => {
    const codes: string[] = [];
    await scaffoldAddon({ name: 'ok-name', dir: join(root, 'fresh') });
    await writeFile(join(root, 'fresh', 'extra'), 'x');
    for (const o of [
      { name: 'Bad Name', dir: join(root, 'a') },
      { name: 'addon-9lives', dir: join(root, 'b') },
      { name: 'ok-name', dir: join(root, 'fresh') },
    ])
      await scaffoldAddon(o).then(
        () => codes.push('none'),
        (e) => codes.push(e.code),
      );
    expect(codes).to.deep.equal(Array(3).fill('SLIPWAY_ERR_ADDON_SCAFFOLD'));
  });
});
