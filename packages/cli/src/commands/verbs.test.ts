/**
 * Heroku's verbs and habits against a real platform (`slipway start` in its own process, real
 * HTTP, a real git push, real Postgres and Redis): app names, `create`/`info`/`rename`/`destroy`,
 * `-a` from the `slipway` git remote, `Deploy <sha>`, releases:info/output, scale/ps:kill,
 * config:set without `=`, logs --json, pg:info/credentials/reset, redis:cli/info,
 * addons:attach/detach, a failed build saying why once, and a quiet run and shutdown.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import {
  CLI,
  type CliResult,
  eventually,
  fixtureCopy,
  PlatformProcess,
  removeFixtureCopies,
} from '../../../runtime/dist/platform-harness.test-helper.js';

const pkg = (rel: string) => fileURLToPath(new URL(`../../../${rel}`, import.meta.url));
const hasTool = (cmd: string) =>
  new Promise<boolean>((resolve) => execFile(cmd, ['--version'], (e) => resolve(!e)));

describe('slipway verbs on a real platform', function () {
  this.timeout(600_000);
  let root: string;
  let p: PlatformProcess;
  let repo: string;
  let app: string;
  const home = () => join(root, 'home');

  /** Run a command in `cwd` with git's identity set and no API credentials but the data dir. */
  const run = (cmd: string, args: string[], cwd: string): Promise<CliResult> =>
    new Promise((resolve) =>
      execFile(
        cmd,
        args,
        {
          cwd,
          maxBuffer: 16 << 20,
          timeout: 300_000,
          env: {
            ...process.env,
            HOME: home(),
            GIT_CONFIG_NOSYSTEM: '1',
            GIT_TERMINAL_PROMPT: '0',
            GIT_AUTHOR_NAME: 'Test',
            GIT_AUTHOR_EMAIL: 'test@example.com',
            GIT_COMMITTER_NAME: 'Test',
            GIT_COMMITTER_EMAIL: 'test@example.com',
            SLIPWAY_DATA_DIR: p.dataDir,
            SLIPWAY_API_URL: '',
            SLIPWAY_TOKEN: '',
          },
        },
        (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
  const inRepo = async (args: string[]) => {
    const r = await run(process.execPath, [CLI, ...args], repo);
    if (r.code !== 0) throw new Error(`slipway ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const json = async (args: string[]) => JSON.parse(await p.ok([...args, '--json']));

  before(async function () {
    for (const tool of ['git', 'psql', 'redis-cli']) {
      if (await hasTool(tool)) continue;
      if (process.env.CI === 'true') throw new Error(`${tool} is missing (install it in .ci/run)`);
      console.warn(`\n  !!! SKIPPED: ${tool} is not installed\n`);
      this.skip();
    }
    root = await mkdtemp(join(tmpdir(), 'slipway-cli-verbs-'));
    // Dynos run as an unprivileged user that must reach the data dir below it.
    await chmod(root, 0o755);
    await mkdir(home());
    const config = join(root, 'slipway.config.json');
    await writeFile(
      config,
      JSON.stringify({
        plugins: [pkg('buildpacks/nodejs'), pkg('addons/postgres'), pkg('addons/redis')],
      }),
    );
    p = await PlatformProcess.start(join(root, 'data'), ['--config', config, '--boot-timeout', '20']);
    repo = await fixtureCopy('hello', {
      Procfile:
        "web: node server.js\nrelease: node -e \"console.log('migrating for', process.env.GREETING || 'nobody')\"\n",
    });
  });
  after(async () => {
    await p?.kill();
    await removeFixtureCopies();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('create: no name gives adjective-noun-NNNN; info shows add-ons, dynos and stack', async () => {
    const made = await json(['create']);
    expect(made.name).to.match(/^[a-z]+-[a-z]+-\d{4}$/);
    app = made.name;
    const info = await json(['info', '-a', app]);
    expect(info.app.name).to.equal(app);
    expect(info).to.have.keys('app', 'addons', 'dynos');
    expect(info.app.stack).to.equal(null);
    expect(await p.ok(['apps:info', '-a', app])).to.match(/Addons:\s+\(none\)[\s\S]*Stack:/);
    expect((await json(['open', '/db', '-a', app])).url).to.equal(
      `http://${app}.localhost:${p.routerPort}/db`,
    );
  });

  it('git push releases as "Deploy <sha>"; -a comes from the slipway remote; releases:info/output', async () => {
    await run('git', ['init', '-q', '-b', 'main'], repo);
    await run('git', ['add', '-A'], repo);
    await run('git', ['commit', '-q', '-m', 'first'], repo);
    // `create --remote` points the repository's slipway remote at the new app; git:remote moves it.
    const made = JSON.parse(await inRepo(['create', 'verbs-remote', '--remote', '--json']));
    expect(made.git_remote.name).to.equal('slipway');
    expect(JSON.parse(await inRepo(['info', '--json'])).app.name).to.equal('verbs-remote');
    await inRepo(['destroy', 'verbs-remote', '--confirm', 'verbs-remote']);
    await inRepo(['git:remote', '-a', app]);
    await inRepo(['git:remote', '-a', app, '-r', 'staging']);
    expect(JSON.parse(await inRepo(['info', '-r', 'staging', '--json'])).app.name).to.equal(app);
    const push = await run('git', ['push', '-q', 'slipway', 'main'], repo);
    expect(push.code, push.stdout + push.stderr).to.equal(0);
    const sha = (await run('git', ['rev-parse', 'HEAD'], repo)).stdout.trim();
    // No -a: the repository's slipway remote names the app, as heroku's does.
    const rel = JSON.parse(await inRepo(['releases:info', '--json']));
    expect(rel.description).to.equal(`Deploy ${sha.slice(0, 8)}`);
    expect(rel.status).to.equal('succeeded');
    expect(await inRepo(['releases:output'])).to.include('migrating for nobody');
    const out = JSON.parse(await inRepo(['releases:output', `v${rel.version}`, '--json']));
    expect(out.output).to.include('migrating for nobody');
    expect((await p.get(app)).status).to.equal(200);
    expect((await json(['info', '-a', app])).app.stack.name).to.be.a('string');
  });

  it('releases:output follows a release phase while it runs', async () => {
    await writeFile(
      join(repo, 'Procfile'),
      "web: node server.js\nrelease: node -e \"console.log('step 1'); setTimeout(() => console.log('step 2'), 6000)\"\n",
    );
    await run('git', ['commit', '-q', '-am', 'slow release phase'], repo);
    const push = run('git', ['push', '-q', 'slipway', 'main'], repo);
    // Once the phase has printed its first line, follow it: the second comes seconds later.
    expect(
      await eventually(
        async () => (await p.ok(['logs', '-a', app, '-d', 'release'])).includes('step 1'),
        60_000,
      ),
    ).to.equal(true);
    const followed = await inRepo(['releases:output']);
    expect(followed).to.include('step 1');
    expect(followed).to.include('step 2');
    expect((await push).code).to.equal(0);
  });

  it('config:set FOO (no =) says "expected KEY=value"; config:get --json', async () => {
    const r = await p.cli(['config:set', 'FOO', '-a', app]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include('"FOO" is not an assignment: expected KEY=value');
    expect(r.stderr).to.include('SLIPWAY_ERR_CONFIG_ASSIGNMENT');
    await p.ok(['config:set', 'GREETING=hi', '-a', app]);
    expect(await json(['config:get', 'GREETING', '-a', app])).to.deep.equal({ GREETING: 'hi' });
  });

  it('scale logs "Scaled to web@2:Standard-1X"; ps:kill web.1 is started again; logs --json', async () => {
    await p.ok(['scale', 'web=2', '-a', app]);
    const killed = await p.cli(['ps:kill', 'web.1', '-a', app]);
    expect(killed.code, killed.stderr).to.equal(0);
    expect(
      await eventually(async () => {
        const ps = await json(['ps', '-a', app]);
        return (
          ps.dynos.filter((d: { type: string; state: string }) => d.type === 'web' && d.state === 'up')
            .length === 2
        );
      }, 60_000),
    ).to.equal(true);
    const lines = (await p.ok(['logs', '-n', '1500', '--json', '-a', app]))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const messages = lines.map((l: { message: string }) => l.message);
    expect(messages).to.include('Scaled to web@2:Standard-1X');
    expect(messages).to.include('Stopped web.1; the formation starts it again');
    expect(lines.every((l: { time?: string; source?: string }) => l.time && l.source)).to.equal(true);
    await p.ok(['restart', '-a', app]);
    expect((await p.get(app)).status).to.equal(200);
  });

  it('pg:info, pg:credentials and pg:reset work on the app database', async () => {
    await p.ok(['addons:create', 'postgres', '-a', app], 300_000);
    const creds = await json(['pg:credentials', '-a', app]);
    const vars = await json(['config', '-a', app]);
    expect(creds.url).to.equal(vars.DATABASE_URL);
    expect(creds.connection_info).to.match(/^dbname=\S+ host=\S+ port=\d+ user=\S+ password=\S+/);
    await p.ok(['pg:psql', '-a', app, '-c', 'CREATE TABLE notes (id int); INSERT INTO notes VALUES (1)']);
    const info = await json(['pg:info', '-a', app]);
    expect(info.tables).to.equal(1);
    expect(info.version).to.match(/^\d+/);
    expect(info.plan).to.match(/^postgres:/);
    const refused = await p.cli(['pg:reset', '-a', app]);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.include(`--confirm ${app}`);
    const reset = await json(['pg:reset', '-a', app, '--confirm', app]);
    expect(reset.tables).to.equal(0);
  });

  it("addons:attach shares an add-on with another app; addons:detach takes it back; the owner's data stays", async () => {
    const other = (await json(['create', 'verbs-other'])).name;
    const att = await json(['addons:attach', `${app}::POSTGRES`, '--as', 'SHARED', '-a', other]);
    expect(att.name).to.equal('SHARED');
    expect(att.attachment_of).to.be.an('object');
    const mine = await json(['config', '-a', app]);
    const theirs = await json(['config', '-a', other]);
    expect(theirs.SHARED_URL).to.equal(mine.POSTGRES_URL);
    const refused = await p.cli(['addons:destroy', 'SHARED', '-a', other]);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.include('addons:detach SHARED');
    await p.ok(['addons:detach', 'SHARED', '-a', other]);
    expect(await json(['config', '-a', other])).not.to.have.property('SHARED_URL');
    expect((await json(['addons', '-a', app])).map((a: { name: string }) => a.name)).to.include('POSTGRES');
  });

  it('redis:cli runs commands and redis:info reads the server', async () => {
    await p.ok(['addons:create', 'redis', '-a', app], 300_000);
    await p.ok(['redis:cli', '-a', app, '-c', 'SET greeting hi']);
    expect((await p.ok(['redis:cli', '-a', app, '-c', 'GET greeting'])).trim()).to.equal('hi');
    const info = await json(['redis:info', '-a', app]);
    expect(info.version).to.match(/^\d+\.\d+/);
    expect(info.plan).to.match(/^redis:/);
  });

  it('a failed build says why once', async () => {
    const broken = await fixtureCopy('hello', { 'package.json': '{ not json' });
    const r = await run(process.execPath, [CLI, 'deploy', broken, '-a', app], broken);
    expect(r.code).to.equal(1);
    const all = `${r.stdout}\n${r.stderr}`;
    // The build's first error line, streamed with the output, must not come back in the CLI's error.
    const why = / !\s+(\S.*)/.exec(r.stdout)?.[1] as string;
    expect(why, all).to.be.a('string');
    expect(all.split(why).length - 1, all).to.equal(1);
    expect(r.stderr).to.include('SLIPWAY_ERR_CLI_DEPLOY_FAILED');
    // builds / builds:output show it again on demand.
    const builds = await json(['builds', '-a', app]);
    expect(builds.at(-1).status).to.equal('failed');
    expect(await p.ok(['builds:output', '-a', app])).to.include(why);
  });

  it('rename moves the app (router and API); destroy --json', async () => {
    const renamed = await json(['rename', 'verbs-renamed', '-a', app]);
    expect(renamed.name).to.equal('verbs-renamed');
    expect(await eventually(async () => (await p.get('verbs-renamed')).status === 200, 60_000)).to.equal(
      true,
    );
    expect((await p.cli(['info', '-a', app])).code).to.equal(1);
    app = 'verbs-renamed';
    const gone = await json(['destroy', app, '--confirm', app]);
    expect(gone.name).to.equal(app);
    expect((await p.cli(['info', '-a', app])).stderr).to.include('NOT_FOUND');
  });

  it('runs and stops quietly: no Postgres LOG line as a warning, no add-on crash at shutdown, no listener leak', async () => {
    await p.kill('SIGTERM');
    expect(p.output).to.match(/\[addon postgres\] info: postgres:\d+: .*LOG: /);
    expect(p.output).not.to.match(/warn: postgres:\d+: .*\bLOG: /);
    expect(p.output).not.to.match(/crashed \(exit code 0\)|restarting in \d+ ms/);
    expect(p.output).not.to.include('MaxListenersExceededWarning');
  });
});
