import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Kernel, type Plugin } from '@slipway/core';
import { expect } from 'chai';
import { isGitUrl, resolveBuildpack } from './resolve.js';

const execFileP = promisify(execFile);
const SDK_URL = pathToFileURL(new URL('./index.js', import.meta.url).pathname).href;

/** An ESM buildpack package; it imports the SDK by URL because it lives outside the repo. */
async function writeJsPackage(dir: string, name: string, id: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({ name, version: '1.0.0', type: 'module', main: './index.js' }),
  );
  await writeFile(
    join(dir, 'index.js'),
    `import { defineBuildpack } from ${JSON.stringify(SDK_URL)};
export default defineBuildpack({ id: ${JSON.stringify(id)}, name: 'JS', detect: () => ({ detected: true }), compile() {} }, { name: ${JSON.stringify(name)} });
`,
  );
}

async function idsOf(plugin: Awaited<ReturnType<typeof resolveBuildpack>>): Promise<string[]> {
  const k = new Kernel();
  await k.use(plugin);
  return [...k.catalog.buildpacks.keys()];
}

describe('resolveBuildpack', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'slipway-resolve-'));
    await writeJsPackage(join(root, 'node_modules/@slipway/buildpack-zzz'), '@slipway/buildpack-zzz', 'zzz');
    await writeJsPackage(join(root, 'node_modules/@acme/buildpack-rust'), '@acme/buildpack-rust', 'rust');
    await writeJsPackage(join(root, 'local-js'), 'local-js', 'localjs');
    await mkdir(join(root, 'classic/bin'), { recursive: true });
    for (const s of ['detect', 'compile']) {
      await writeFile(join(root, 'classic/bin', s), '#!/bin/sh\n');
      await chmod(join(root, 'classic/bin', s), 0o755);
    }
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('tells git URLs from paths and names', () => {
    expect(isGitUrl('https://github.com/heroku/heroku-buildpack-ruby.git')).to.equal(true);
    expect(isGitUrl('git@github.com:a/b.git')).to.equal(true);
    expect(isGitUrl('file:///srv/bp.git#v1')).to.equal(true);
    expect(isGitUrl('./bp')).to.equal(false);
    expect(isGitUrl('@acme/buildpack-rust')).to.equal(false);
  });

  it('turns a short id into the first-party package @slipway/buildpack-<id>', async () => {
    expect(await idsOf(await resolveBuildpack('zzz', root))).to.deep.equal(['zzz']);
  });

  it('loads a package by name, a JS package dir, its file and a classic dir', async () => {
    expect(await idsOf(await resolveBuildpack('@acme/buildpack-rust', root))).to.deep.equal(['rust']);
    expect(await idsOf(await resolveBuildpack('./local-js', root))).to.deep.equal(['localjs']);
    expect(await idsOf(await resolveBuildpack(join(root, 'local-js/index.js'), '/'))).to.deep.equal([
      'localjs',
    ]);
    expect(await idsOf(await resolveBuildpack('./classic', root))).to.deep.equal(['classic']);
  });

  it('says what it tried when nothing matches', async () => {
    const err = await resolveBuildpack('nope', root).catch((e) => e);
    expect(err.code).to.equal('SLIPWAY_ERR_BUILDPACK_RESOLVE');
    expect(err.message).to.include('@slipway/buildpack-nope or nope');
    const missing = await resolveBuildpack('./missing', root).catch((e) => e);
    expect(missing.message).to.include('does not exist');
  });

  it('clones a classic buildpack from a git URL, fetches new commits at each resolve, and keeps its id', async () => {
    const repo = join(root, 'heroku-buildpack-hello.git');
    const work = join(root, 'hello-work');
    const git = (args: string[], cwd: string) =>
      execFileP('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.com', ...args], { cwd });
    await mkdir(work, { recursive: true });
    await cp(join(root, 'classic'), work, { recursive: true });
    await git(['init', '-q', '-b', 'main'], work);
    await git(['add', '-A'], work);
    await git(['commit', '-q', '-m', 'v1'], work);
    await git(['tag', 'v1'], work);
    await git(['clone', '-q', '--bare', work, repo], root);
    const clones = join(root, 'clones');
    const url = `file://${repo}`;
    const checkout = (u: string): Promise<Plugin> => resolveBuildpack(u, root, { cacheDir: clones });
    const first = await checkout(url);
    const [id] = await idsOf(first);
    expect(id).to.match(/^hello-[0-9a-f]{16}$/);
    const k = new Kernel();
    await k.use(first);
    expect(k.catalog.buildpacks.get(id as string)?.source).to.equal(url);

    // A new commit on the default branch is picked up by the next build, under the same id.
    await writeFile(join(work, 'bin', 'detect'), '#!/bin/sh\necho v2\n');
    await git(['commit', '-q', '-a', '-m', 'v2'], work);
    await git(['push', '-q', repo, 'main'], work);
    const checkouts = join(clones, readdirSync(clones)[0] as string);
    await checkout(url);
    expect(readdirSync(checkouts).filter((n) => !n.startsWith('.'))).to.have.length(2);
    expect(await idsOf(await checkout(url))).to.deep.equal([id]);
    // A pinned tag stays on its commit.
    expect(await idsOf(await checkout(`${url}#v1`))).to.have.length(1);

    // The remote gone: the newest checkout still serves.
    await rm(repo, { recursive: true });
    expect(await idsOf(await checkout(url))).to.deep.equal([id]);
  });

  it('installs an npm buildpack that is not installed (scoped or npm:) into its own prefix, without install scripts', async function () {
    this.timeout(120_000);
    const pkg = join(root, 'npm-src');
    await writeJsPackage(pkg, '@acme/buildpack-fromnpm', 'fromnpm');
    const manifest = JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8'));
    manifest.scripts = { postinstall: 'touch postinstall-ran' };
    await writeFile(join(pkg, 'package.json'), JSON.stringify(manifest));
    const { stdout } = await execFileP('npm', ['pack', '--silent', '--pack-destination', root], { cwd: pkg });
    const tarball = join(root, stdout.trim());
    const prefix = join(root, 'npm-prefix');
    const spec = `@acme/buildpack-fromnpm@file:${tarball}`;
    expect(await idsOf(await resolveBuildpack(spec, root, { npmPrefix: prefix }))).to.deep.equal(['fromnpm']);
    const installed = (await execFileP('find', [prefix, '-name', 'postinstall-ran'])).stdout;
    expect(installed).to.equal('');
    // Without npmPrefix, a package that is not installed is not fetched.
    const err = await resolveBuildpack('npm:@acme/buildpack-elsewhere', root).catch((e) => e);
    expect(err.code).to.equal('SLIPWAY_ERR_BUILDPACK_RESOLVE');
  });

  it('installs a packed buildpack (.tgz by absolute path) into a prefix of its own, anew once repacked', async function () {
    this.timeout(120_000);
    const pkg = join(root, 'packed-src');
    await writeJsPackage(pkg, 'acme-packed', 'packed');
    const pack = async () =>
      join(
        root,
        (
          await execFileP('npm', ['pack', '--silent', '--pack-destination', root], { cwd: pkg })
        ).stdout.trim(),
      );
    const tarball = await pack();
    const prefix = join(root, 'tgz-prefix');
    expect(await idsOf(await resolveBuildpack(tarball, '/', { npmPrefix: prefix }))).to.deep.equal([
      'packed',
    ]);
    expect(readdirSync(prefix)).to.have.length(1);
    await writeJsPackage(pkg, 'acme-packed', 'packed2');
    expect(await idsOf(await resolveBuildpack(await pack(), '/', { npmPrefix: prefix }))).to.deep.equal([
      'packed2',
    ]);
    expect(readdirSync(prefix)).to.have.length(2);
    const err = await resolveBuildpack(tarball, '/').catch((e) => e);
    expect(err.code).to.equal('SLIPWAY_ERR_BUILDPACK_RESOLVE');
    expect(err.message).to.include('no install directory');
  });

  it("reports a package the registry does not have, naming npm's error", async function () {
    this.timeout(120_000);
    const err = await resolveBuildpack('npm:@slipway-test-nonexistent/buildpack-none', root, {
      npmPrefix: join(root, 'npm-prefix'),
    }).catch((e) => e);
    expect(err.code).to.equal('SLIPWAY_ERR_BUILDPACK_NPM');
    expect(err.message).to.match(
      /npm install of buildpack @slipway-test-nonexistent\/buildpack-none failed: .*(404|E404|Not Found)/i,
    );
  });

  it('reports a git URL that cannot be cloned', async () => {
    const err = await resolveBuildpack(`file://${join(root, 'no-repo.git')}`, root, {
      cacheDir: join(root, 'clones'),
    }).catch((e) => e);
    expect(err.code).to.equal('SLIPWAY_ERR_BUILDPACK_GIT');
  });
});
