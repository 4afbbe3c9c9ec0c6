import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const BIN = fileURLToPath(new URL('../bin.js', import.meta.url));

/**
 * Under the root `npm test`, npm_* variables (local prefix, workspace…) describe the monorepo;
 * the new package must be installed as a user would, on its own.
 */
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));

function run(
  cmd: string,
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env: cleanEnv, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('slipway new', function () {
  this.timeout(240000);
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'slipway-cli-create-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('creates a buildpack package whose own npm install && npm test pass', async function () {
    // npm install needs the registry (or a warm cache): a missing one fails in CI, skips elsewhere.
    const ping = await run('npm', ['ping'], root);
    if (ping.code !== 0) {
      if (process.env.CI === 'true') expect.fail(`the npm registry is unreachable: ${ping.stderr}`);
      console.warn(`\n  !!! SKIPPED: the npm registry is unreachable (npm ping: ${ping.stderr.trim()})\n`);
      this.skip();
    }
    const dir = join(root, 'x');
    const created = await run(process.execPath, [BIN, 'new', 'buildpack', 'acme-static', '--dir', dir], root);
    expect(created.code, created.stderr).to.equal(0);
    expect(created.stdout).to.include(`-----> Created buildpack acme-static in ${dir}`);
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
    expect(pkg.dependencies['@slipway/buildpack-sdk']).to.match(/^file:\//);
    const install = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], dir);
    expect(install.code, install.stderr).to.equal(0);
    const test = await run('npm', ['test'], dir);
    expect(test.code, test.stdout + test.stderr).to.equal(0);
    expect(test.stdout).to.include('3 passing');
  });

  it('refuses a directory that is not empty', async () => {
    const r = await run(process.execPath, [BIN, 'new', 'buildpack', 'again', '--dir', join(root, 'x')], root);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include('(SLIPWAY_ERR_BUILDPACK_SCAFFOLD)');
  });

  it('creates an add-on with the add-on SDK, or says the SDK cannot yet', async () => {
    const sdk = (await import('@slipway/addon-sdk')) as Record<string, unknown>;
    const dir = join(root, 'addon');
    const r = await run(process.execPath, [BIN, 'new', 'addon', 'acme-memcached', '--dir', dir], root);
    if (typeof sdk.scaffoldAddon === 'function') {
      expect(r.code, r.stderr).to.equal(0);
      expect(existsSync(join(dir, 'package.json'))).to.equal(true);
    } else {
      expect(r.code).to.equal(1);
      expect(r.stderr).to.include('(SLIPWAY_ERR_CLI_SCAFFOLD_UNAVAILABLE)');
    }
  });
});
