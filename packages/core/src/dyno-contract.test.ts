/**
 * The slug/dyno contract with real bash and real sockets: the launcher sources `.profile.d` in
 * order and then runs the command as given (an argument, never spliced), lookupUser reads the
 * machine's passwd, freePort hands out a port that can be bound; and the attachment-name rule.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { attachmentName, configPrefix } from './config-vars.js';
import { dynoLauncher, freePort, lookupUser } from './dyno-contract.js';
import { isSlipwayError } from './errors.js';

const bash = (script: string, args: string[], cwd: string) =>
  new Promise<string>((resolve, reject) =>
    execFile(
      'bash',
      ['-c', script, 'dyno', ...args],
      { cwd, env: { PATH: process.env.PATH ?? '' } },
      (e, out, err) => (e ? reject(new Error(`${e.message}\n${err}`)) : resolve(out)),
    ),
  );

describe('dyno contract', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-dyno-contract-'));
    await mkdir(join(dir, '.profile.d'));
    await writeFile(join(dir, '.profile.d', 'a.sh'), 'export GREETING=hello\n');
    await writeFile(join(dir, '.profile.d', 'b.sh'), 'export GREETING="$GREETING world"\n');
    await writeFile(join(dir, '.profile.d', 'notes.txt'), 'export GREETING=ignored\n');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('sources .profile.d/*.sh in order, then runs the command with bash -c', async () => {
    expect(await bash(dynoLauncher(), ['FOO=1; echo "$GREETING $FOO"'], dir)).to.equal('hello world 1\n');
  });

  it('runs a prelude first and takes the command from another word', async () => {
    const script = dynoLauncher(['cmd="$2"; export PRELUDE=yes'], '"$cmd"');
    expect(await bash(script, ['ignored', 'echo "$PRELUDE $GREETING"'], dir)).to.equal('yes hello world\n');
  });

  it('passes the command as an argument: shell syntax in it is never part of the launcher', async () => {
    expect(await bash(dynoLauncher(), ['echo "$1"; echo done'], dir)).to.equal('\ndone\n');
    expect(await bash(dynoLauncher(), ['echo \'"; exit 3; "\''], dir)).to.equal('"; exit 3; "\n');
  });

  it('looks accounts up in /etc/passwd', async () => {
    expect(await lookupUser('root')).to.deep.equal({ name: 'root', uid: 0, gid: 0 });
    expect(await lookupUser('no-such-user-here')).to.equal(undefined);
  });

  it('hands out a port that can be bound', async () => {
    const port = await freePort();
    expect(port).to.be.within(1, 65535);
    const srv = createServer();
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, '127.0.0.1', resolve);
    });
    await new Promise((r) => srv.close(r));
  });
});

describe('attachment names (Heroku: --as NAME prefixes the config vars, else the service id)', () => {
  it('defaults to the service prefix and normalises --as', () => {
    expect(configPrefix('heroku-postgresql')).to.equal('HEROKU_POSTGRESQL');
    expect(attachmentName('heroku-redis')).to.equal('HEROKU_REDIS');
    expect(attachmentName('postgres', 'PRIMARY')).to.equal('PRIMARY');
    expect(attachmentName('postgres', 'primary-db')).to.equal('PRIMARY_DB');
  });

  it('refuses a name that is no config var prefix, with a coded 422', () => {
    for (const bad of ['9lives', 'A B', '_X', 'DB$']) {
      let err: unknown;
      try {
        attachmentName('postgres', bad);
      } catch (e) {
        err = e;
      }
      expect(isSlipwayError(err, 'SLIPWAY_ERR_ADDON_ATTACHMENT_NAME'), bad).to.equal(true);
      expect((err as { status: number }).status).to.equal(422);
    }
  });
});
