/**
 * A platform that is not root cannot give apps their own uids: `slipway start` says so at
 * start, and still keeps its data dir private. Run as `nobody` (via setpriv) when the tests are
 * root, as the test's own user otherwise.
 */
import { spawn } from 'node:child_process';
import { chown, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { CLI } from '../platform-harness.test-helper.js';

describe('a platform that is not root', function () {
  this.timeout(60_000);
  let dir: string;
  after(() => rm(dir, { recursive: true, force: true }));

  it('warns at start that apps are not isolated, and keeps its data dir 0700', async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-not-root-'));
    const cfg = join(dir, 'slipway.config.json');
    await writeFile(cfg, '{"plugins":[]}');
    const args = [
      CLI,
      'start',
      '--data-dir',
      join(dir, 'data'),
      '--port',
      '0',
      '--api-port',
      '0',
      '--config',
      cfg,
    ];
    const root = process.getuid?.() === 0;
    if (root) await chown(dir, 65534, 65534);
    const child = root
      ? spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, ...args], {
          env: { ...process.env, HOME: dir },
        })
      : spawn(process.execPath, args);
    let out = '';
    const running = new Promise<void>((resolve, reject) => {
      const onData = (c: Buffer) => {
        out += c;
        if (out.includes('Apps answer:')) resolve();
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('exit', (code) => reject(new Error(`exited ${code}:\n${out}`)));
    });
    try {
      await running;
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    }
    expect(out).to.match(
      /warning: apps are not isolated from each other: the platform runs as uid \d+, not root/,
    );
    expect(out).to.include('Run `slipway start` as root');
    expect((await stat(join(dir, 'data'))).mode & 0o777).to.equal(0o700);
    expect((await stat(join(dir, 'data', 'credentials.json'))).mode & 0o777).to.equal(0o600);
  });
});
