/**
 * git push end to end: the real `git` client pushes a small app over smart HTTP to a real
 * platform (in-process), the build output comes back as `remote:` lines and the app is served
 * through the router. Refusals (branch, odd ref, empty tree, size, bad token, failed build)
 * leave the ref and the running release as they were; a force push is accepted (Heroku's rule).
 * The hook's callbacks know only the push's secret: the API token stays out of git's reach.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { type Platform, startPlatform } from '../platform.js';
import {
  CLI,
  fixtureCopy,
  nodeOnlyConfig,
  removeFixtureCopies,
  servedVersion,
} from '../platform-harness.test-helper.js';

interface Run {
  code: number;
  out: string;
}

describe('git push (real git client, real platform)', function () {
  this.timeout(240_000);
  let dir: string;
  let home: string;
  let p: Platform;
  let repo: string;
  let remote: string;

  const git = (args: string[], cwd = repo): Promise<Run> =>
    new Promise((resolve) => {
      execFile(
        'git',
        [
          '-c',
          'user.name=Test',
          '-c',
          'user.email=test@example.com',
          '-c',
          'init.defaultBranch=main',
          ...args,
        ],
        {
          cwd,
          maxBuffer: 16 << 20,
          env: { ...process.env, HOME: home, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1' },
        },
        (err, stdout, stderr) =>
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
      );
    });
  const ok = async (args: string[]) => {
    const r = await git(args);
    if (r.code !== 0) throw new Error(`git ${args.join(' ')} exited ${r.code}\n${r.out}`);
    return r.out;
  };
  const serving = () => servedVersion(p.routerPort, 'pushed');
  const commit = async (files: Record<string, string>, message: string) => {
    for (const [f, t] of Object.entries(files)) await writeFile(join(repo, f), t);
    await ok(['add', '-A']);
    await ok(['commit', '-q', '-m', message]);
  };
  const slipway = (args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [CLI, ...args],
        {
          cwd: repo,
          env: {
            ...process.env,
            HOME: home,
            SLIPWAY_API_URL: p.apiUrl,
            SLIPWAY_TOKEN: p.token,
            SLIPWAY_APP: '',
          },
        },
        (err, stdout, stderr) =>
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
      );
    });
  const remoteHead = async (branch = 'main') =>
    (await ok(['ls-remote', remote, `refs/heads/${branch}`])).split('\t')[0];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-git-'));
    await chmod(dir, 0o755);
    home = join(dir, 'home');
    await mkdir(home, { recursive: true });
    p = await startPlatform({
      dataDir: join(dir, 'data'),
      routerPort: 0,
      apiPort: 0,
      configFile: await nodeOnlyConfig(dir),
      bootTimeoutMs: 5000,
      stopGraceMs: 1000,
      maxUploadBytes: 1 << 20,
    });
    const r = await fetch(new URL('/apps', p.apiUrl), {
      method: 'POST',
      headers: { authorization: `Bearer ${p.token}` },
      body: JSON.stringify({ name: 'pushed' }),
    });
    expect(r.status).to.equal(201);
    remote = `${p.apiUrl.replace('http://', `http://git:${p.token}@`)}/pushed.git`;
    repo = await fixtureCopy('hello', { VERSION: 'one' });
    await ok(['init', '-q']);
    await commit({}, 'first');
  });
  after(async () => {
    await p?.stop();
    await rm(dir, { recursive: true, force: true });
    await removeFixtureCopies();
  });

  it('builds and releases a push to main, streaming the build back as remote: lines', async () => {
    const out = await ok(['push', remote, 'main']);
    expect(out).to.match(/remote: -----> Node\.js app detected/);
    expect(out).to.match(/remote: +Released v1/);
    expect(out).to.include('main -> main');
    expect(await serving()).to.equal('one');
    expect(await remoteHead()).to.equal((await ok(['rev-parse', 'HEAD'])).trim());
  });

  it('rejects a push whose build fails; the ref and the running release stay', async () => {
    const before = await remoteHead();
    await commit({ 'package.json': '{ not json' }, 'broken');
    const r = await git(['push', remote, 'main']);
    expect(r.code).to.not.equal(0);
    expect(r.out).to.match(/remote: .*Build failed; the running release is unchanged/);
    expect(r.out).to.match(/pre-receive hook declined/);
    expect(await remoteHead()).to.equal(before);
    expect(await serving()).to.equal('one');
    await ok(['reset', '-q', '--hard', 'HEAD~1']);
  });

  it('refuses other branches and ref names with odd characters, naming the rule', async () => {
    const r = await git(['push', remote, 'main:feature']);
    expect(r.code).to.not.equal(0);
    expect(r.out).to.match(
      /remote: +!\s+pushing refs\/heads\/feature is refused: only main or master deploys/,
    );
    expect(r.out).to.include('git push slipway feature:main');
    const odd = await git(['push', remote, 'HEAD:refs/heads/x;touch${IFS}pwned']);
    expect(odd.code).to.not.equal(0);
    expect(odd.out).to.match(/ref name .* is refused/);
    expect((await ok(['ls-remote', remote])).trim().split('\n')).to.have.length(2); // HEAD + main
  });

  it('refuses a commit with no files', async () => {
    const empty = (
      await ok(['commit-tree', '4b825dc642cb6eb9a060e54bf8d69288fbee4904', '-m', 'empty'])
    ).trim();
    const r = await git(['push', remote, `${empty}:refs/heads/main`, '--force']);
    expect(r.code).to.not.equal(0);
    expect(r.out).to.match(/the pushed commit has no files/);
  });

  it('refuses a push over the size limit', async () => {
    await commit({ 'big.bin': randomBytes(3 << 20).toString('base64') }, 'big');
    const r = await git(['push', remote, 'main']);
    expect(r.code).to.not.equal(0);
    expect(r.out).to.match(/remote: fatal: pack exceeds maximum allowed size/);
    expect(await serving()).to.equal('one');
    await ok(['reset', '-q', '--hard', 'HEAD~1']);
  });

  it('refuses a wrong token', async () => {
    const r = await git(['push', remote.replace(p.token, 'wrong-token'), 'main']);
    expect(r.code).to.not.equal(0);
    expect(r.out).to.match(/Authentication failed|401/);
  });

  it('hook callbacks take the push secret alone: a valid token with no or a wrong secret is refused', async () => {
    // With or without the token the answer is the same 403: the token is not what counts.
    for (const auth of [{ authorization: `Bearer ${p.token}` }, {}] as Record<string, string>[])
      for (const secret of [undefined, 'f'.repeat(48), ''])
        for (const path of ['/internal/git-push/check', '/internal/git-push/build']) {
          const r = await fetch(new URL(path, p.apiUrl), {
            method: 'POST',
            headers: { ...auth, ...(secret === undefined ? {} : { 'x-slipway-push-secret': secret }) },
            body: JSON.stringify({ refs: [] }),
          });
          expect(r.status, `${path} secret=${secret} token=${'authorization' in auth}`).to.equal(403);
          expect(await r.text()).to.match(/unknown or expired push callback/);
        }
    // The exemption from the token check is for those two paths only.
    const other = await fetch(new URL('/internal/git-push/other', p.apiUrl), { method: 'POST' });
    expect(other.status).to.equal(401);
  });

  it('no API token reaches git http-backend or the repository hooks', async () => {
    const app = (await (
      await fetch(new URL('/apps/pushed', p.apiUrl), { headers: { authorization: `Bearer ${p.token}` } })
    ).json()) as { id: string };
    // A post-receive hook runs with the same environment as pre-receive (both are children of
    // receive-pack under http-backend); git relays its output to the pusher.
    const hook = join(dir, 'data', 'git', `${app.id}.git`, 'hooks', 'post-receive');
    await writeFile(hook, '#!/bin/sh\necho "hook-env-begin"\nenv\necho "hook-env-end"\n');
    await chmod(hook, 0o755);
    try {
      await commit({ VERSION: 'env' }, 'env');
      const out = await ok(['push', remote, 'main']);
      expect(out).to.match(/remote: hook-env-end/);
      expect(out).to.match(/remote: SLIPWAY_PUSH_SECRET=[0-9a-f]{48}/);
      expect(out).to.not.include(p.token);
      expect(out).to.not.match(/SLIPWAY_PUSH_TOKEN|SLIPWAY_TOKEN/);
      expect(await serving()).to.equal('env');
    } finally {
      await rm(hook, { force: true });
    }
  });

  it('accepts a force push (non-fast-forward), as Heroku does', async () => {
    await ok(['commit', '-q', '--amend', '-m', 'rewritten']);
    await writeFile(join(repo, 'VERSION'), 'two');
    await ok(['commit', '-q', '-a', '--amend', '-m', 'rewritten']);
    const plain = await git(['push', remote, 'main']);
    expect(plain.code).to.not.equal(0);
    expect(plain.out).to.match(/non-fast-forward|fetch first|rejected/);
    const out = await ok(['push', '--force', remote, 'main']);
    expect(out).to.match(/forced update/);
    expect(await serving()).to.equal('two');
  });

  it('git:remote adds a remote that deploys; buildpacks:* pin the next build', async () => {
    const r = await slipway(['git:remote', '-a', 'pushed']);
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.match(/set git remote slipway to http:\/\/git:\*\*\*@127\.0\.0\.1:\d+\/pushed\.git/);
    expect((await slipway(['buildpacks', '-a', 'pushed'])).out).to.match(/no buildpack set/);

    expect((await slipway(['buildpacks:add', 'no-such-pack', '-a', 'pushed'])).code).to.equal(0);
    const twice = await slipway(['buildpacks:add', 'no-such-pack', '-a', 'pushed']);
    expect(twice.code).to.not.equal(0);
    expect(twice.out).to.match(/already set/);
    expect(
      (await slipway(['buildpacks:add', '--index', '1', 'heroku/nodejs', '-a', 'pushed'])).code,
    ).to.equal(0);
    expect((await slipway(['buildpacks', '-a', 'pushed', '--json'])).out).to.satisfy(
      (t: string) => JSON.stringify(JSON.parse(t)) === '["heroku/nodejs","no-such-pack"]',
    );
    const bad = await slipway(['buildpacks:add', '--index', '9', 'x', '-a', 'pushed']);
    expect(bad.out).to.match(/--index 9 is not a position/);

    await commit({ VERSION: 'three' }, 'three');
    const refused = await git(['push', 'slipway', 'main']);
    expect(refused.code).to.not.equal(0);
    expect(refused.out).to.match(/remote: .*no-such-pack/);
    expect(await serving()).to.equal('two');

    expect((await slipway(['buildpacks:remove', 'no-such-pack', '-a', 'pushed'])).code).to.equal(0);
    const out = await ok(['push', 'slipway', 'main']);
    expect(out).to.match(/remote: .*Using buildpacks: nodejs/);
    expect(await serving()).to.equal('three');

    expect((await slipway(['buildpacks:set', '--index', '1', 'nodejs', '-a', 'pushed'])).code).to.equal(0);
    expect((await slipway(['buildpacks:clear', '-a', 'pushed'])).code).to.equal(0);
    expect((await slipway(['buildpacks', '-a', 'pushed', '--json'])).out.trim()).to.equal('[]');
  });

  it('builds with a classic buildpack pinned by git URL, fetched at build time, and refuses one it cannot clone', async () => {
    // A Heroku-style buildpack in its own repository, served to the platform over file://.
    const bp = join(dir, 'heroku-buildpack-stamp');
    await mkdir(join(bp, 'bin'), { recursive: true });
    const scripts: Record<string, string> = {
      detect: '#!/bin/sh\necho Stamp\n',
      compile: '#!/bin/sh\necho "-----> Stamping the slug"\necho stamped > "$1/VERSION"\n',
      release: '#!/bin/sh\nprintf "default_process_types:\\n  web: node server.js\\n"\n',
    };
    for (const [name, text] of Object.entries(scripts)) {
      await writeFile(join(bp, 'bin', name), text);
      await chmod(join(bp, 'bin', name), 0o755);
    }
    const g = (args: string[]) => git(args, bp);
    await g(['init', '-q', '-b', 'main']);
    await g(['add', '-A']);
    await g(['commit', '-q', '-m', 'stamp']);
    await g(['clone', '-q', '--bare', bp, `${bp}.git`]);
    const url = `file://${bp}.git`;

    expect((await slipway(['buildpacks:add', url, '-a', 'pushed'])).code).to.equal(0);
    await commit({ VERSION: 'four' }, 'four');
    const out = await ok(['push', 'slipway', 'main']);
    expect(out).to.match(new RegExp(`remote: -----> Fetching buildpack ${url}`));
    expect(out).to.match(/remote: -----> Stamp app detected/);
    expect(out).to.match(/remote: -----> Stamping the slug/);
    expect(await serving()).to.equal('stamped');

    const missing = `file://${join(dir, 'no-such-buildpack.git')}`;
    expect((await slipway(['buildpacks:set', missing, '-a', 'pushed'])).code).to.equal(0);
    await commit({ VERSION: 'five' }, 'five');
    const refused = await git(['push', 'slipway', 'main']);
    expect(refused.code).to.not.equal(0);
    expect(refused.out).to.match(/remote: .*git clone of file:\/\/.*no-such-buildpack\.git failed/);
    expect(await serving()).to.equal('stamped');
    expect((await slipway(['buildpacks:clear', '-a', 'pushed'])).code).to.equal(0);
  });
});
