/**
 * The CLI's pure parts: help groups and help text for every verb, shell completion scripts,
 * log line and connection parsing, the app from a git remote URL, and the delayed spinner.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import readline from 'node:readline';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { isSlipwayError } from '@slipway/core';
import { expect } from 'chai';
import { ApiClient, appFromRemoteUrl } from '../api-client.js';
import { TOPICS, topicOf } from '../help-groups.js';
import { createProgram } from '../main.js';
import { withProgress } from '../progress.js';
import { bashCompletion, zshCompletion } from './completion.js';
import { setGitRemote } from './git.js';
import { parseLogLine } from './logs.js';
import { connectionInfo } from './pg.js';
import { parseRedisInfo, redisCliInvocation } from './redis.js';

describe('slipway --help', () => {
  const program = createProgram();

  it('groups every verb under a Heroku topic, topics in order', () => {
    const help = program.helpInformation();
    const headings = TOPICS.map(([, h]) => help.indexOf(`${h}:`));
    expect(
      headings.every((i) => i >= 0),
      help,
    ).to.equal(true);
    expect([...headings].sort((a, b) => a - b)).to.deep.equal(headings);
    for (const c of program.commands) expect(c.helpGroup(), c.name()).to.not.equal('other:');
    expect(topicOf('apps:create')).to.equal('apps');
    expect(topicOf('git:remote')).to.equal('deploy');
  });

  it('gives every verb a description and its own --help', () => {
    for (const c of program.commands) {
      expect(c.description(), c.name()).to.have.length.above(5);
      expect(c.helpInformation(), c.name()).to.include(`Usage: slipway ${c.name()}`);
    }
  });

  it("has Heroku's verbs and aliases", () => {
    const names = new Set(program.commands.flatMap((c) => [c.name(), ...c.aliases()]));
    for (const v of [
      'create',
      'info',
      'destroy',
      'rename',
      'open',
      'restart',
      'scale',
      'rollback',
      'apps:rename',
      'releases:info',
      'releases:output',
      'ps:kill',
      'ps:stop',
      'addons:attach',
      'addons:detach',
      'pg:info',
      'pg:credentials',
      'pg:reset',
      'redis:cli',
      'redis:info',
      'config:add',
      'config:remove',
      'addons:add',
      'addons:remove',
      'new',
      'completion',
    ])
      expect(names.has(v), v).to.equal(true);
  });

  it("--version is the CLI's own, not that of the package whose npm script runs it", async () => {
    const bin = new URL('../bin.js', import.meta.url).pathname;
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
    const { stdout } = await promisify(execFile)(process.execPath, [bin, '--version'], {
      env: { ...process.env, npm_package_version: '9.9.9' },
    });
    expect(stdout.trim()).to.equal(pkg.version);
  });

  it('offers --json on every verb that prints data', () => {
    // These print a confirmation, a terminal session, a script or one raw secret, not data.
    const noData = new Set([
      'start',
      'run',
      'completion',
      'new',
      'pg:psql',
      'redis:cli',
      'help',
      'login',
      'logout',
      'passwd',
      'auth:token',
      'authorizations:revoke',
      'users:remove',
      'users:password',
    ]);
    for (const c of program.commands) {
      if (noData.has(c.name()) || c.commands.length) continue;
      expect(
        c.options.some((o) => o.long === '--json'),
        c.name(),
      ).to.equal(true);
    }
  });
});

describe('slipway completion', () => {
  const program = createProgram();
  it('writes a bash script that bash accepts and that completes verbs and options', async () => {
    const script = bashCompletion(program);
    for (const w of ["'apps:create'", "'ps:scale'", '--confirm', 'complete -F _slipway slipway'])
      expect(script).to.include(w);
    // bash parses it and the function completes `slipway apps:cr` to apps:create.
    const r = await new Promise<string>((resolve, reject) =>
      execFile(
        'bash',
        ['-c', `${script}\nCOMP_WORDS=(slipway apps:cr); COMP_CWORD=1; _slipway; echo "\${COMPREPLY[@]}"`],
        (e, stdout, stderr) => (e ? reject(new Error(stderr)) : resolve(stdout.trim())),
      ),
    );
    expect(r.split(' ')).to.include('apps:create');
  });
  it('writes a zsh script with described verbs', () => {
    const script = zshCompletion(program);
    expect(script.startsWith('#compdef slipway')).to.equal(true);
    expect(script).to.include("'apps\\:create:create an app");
    expect(script).to.include('_describe');
  });
});

describe('CLI parsers', () => {
  it('reads a log line into time, source, dyno and message', () => {
    expect(parseLogLine('2026-12-05T22:49:39.148123+00:00 app[web.1]: hello: world')).to.deep.equal({
      time: '2026-12-05T22:49:39.148123+00:00',
      source: 'app',
      dyno: 'web.1',
      message: 'hello: world',
    });
    expect(parseLogLine('not a log line')).to.equal(undefined);
  });
  it('names the app of a slipway remote URL, token or not', () => {
    expect(appFromRemoteUrl('http://git:tok@127.0.0.1:5001/misty-meadow-1234.git\n')).to.equal(
      'misty-meadow-1234',
    );
    expect(appFromRemoteUrl('https://github.com/acme/Repo')).to.equal(undefined);
  });
  it('makes the libpq connection string of a DATABASE_URL', () => {
    expect(connectionInfo('postgres://u1:p%40ss@127.0.0.1:6543/d1?sslmode=require')).to.equal(
      'dbname=d1 host=127.0.0.1 port=6543 user=u1 password=p@ss sslmode=require',
    );
  });
  it('passes the Redis password only in the environment', () => {
    const { args, env } = redisCliInvocation('redis://default:s3cret@127.0.0.1:6390/2');
    expect(args).to.deep.equal(['-h', '127.0.0.1', '-p', '6390', '-n', '2', '--no-auth-warning']);
    expect(env).to.deep.equal({ REDISCLI_AUTH: 's3cret' });
    expect(parseRedisInfo('# Server\r\nredis_version:7.0.15\r\n\r\nconnected_clients:1\r\n')).to.deep.equal({
      redis_version: '7.0.15',
      connected_clients: '1',
    });
  });
});

describe('git:remote', () => {
  const token = 'slpu_n0tForAnyoneElse-123';
  const client = new ApiClient({ url: 'http://127.0.0.1:5001', token });
  let repo: string;
  const cwd = process.cwd();
  before(async () => {
    repo = await mkdtemp(join(tmpdir(), 'slipway-git-remote-'));
    await promisify(execFile)('git', ['init', '--quiet', repo]);
    process.chdir(repo);
  });
  after(async () => {
    process.chdir(cwd);
    await rm(repo, { recursive: true, force: true });
  });

  it('keeps the token in .git/config only: the URL it shows has ***', async () => {
    expect(await setGitRemote(client, 'hello', 'slipway')).to.equal(
      'http://git:***@127.0.0.1:5001/hello.git',
    );
    const { stdout } = await promisify(execFile)('git', ['remote', 'get-url', 'slipway']);
    expect(stdout.trim()).to.equal(`http://git:${token}@127.0.0.1:5001/hello.git`);
  });

  it('never prints the token when git refuses (its error quotes the command line)', async () => {
    const err = await setGitRemote(client, 'hello', 'bad name').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSlipwayError(err) && err.code, String(err)).to.equal('SLIPWAY_ERR_CLI_GIT');
    const said = `${(err as Error).message}\n${isSlipwayError(err) ? err.describe() : ''}`;
    expect(said).to.include('bad name');
    expect(said).to.include('git:***@');
    expect(said).to.not.include(token);
  });
});

describe('progress spinner', () => {
  const tty = () => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(c, _e, cb) {
        chunks.push(String(c));
        cb();
      },
    }) as Writable & { isTTY: boolean };
    stream.isTTY = true;
    // What a tty.WriteStream adds (yocto-spinner redraws with them outside CI), as escape codes.
    Object.assign(stream, {
      cursorTo: (x: number, y?: number) => readline.cursorTo(stream, x, y),
      clearLine: (dir: -1 | 0 | 1) => readline.clearLine(stream, dir),
      moveCursor: (dx: number, dy: number) => readline.moveCursor(stream, dx, dy),
      columns: 80,
    });
    return { stream, text: () => chunks.join('') };
  };
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('shows nothing for a wait under a second', async () => {
    const t = tty();
    expect(
      await withProgress(
        'Scaling dynos',
        wait(100).then(() => 7),
        t.stream,
      ),
    ).to.equal(7);
    expect(t.text()).to.equal('');
  });
  it('shows the wait on a terminal after a second, and how it ended', async () => {
    const t = tty();
    await withProgress('Scaling dynos', wait(1400), t.stream);
    expect(t.text()).to.include('Scaling dynos');
    expect(t.text()).to.include('done');
  });
  it('never writes to a stream that is not a terminal', async () => {
    const t = tty();
    t.stream.isTTY = false;
    await withProgress('Scaling dynos', wait(1200), t.stream);
    expect(t.text()).to.equal('');
  });
});
