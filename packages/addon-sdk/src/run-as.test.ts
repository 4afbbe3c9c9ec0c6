import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kernel, lookupUser } from '@slipway/core';
import { expect } from 'chai';
import { defineAddon } from './define-addon.js';
import type { ProviderContext } from './definition.js';
import { createRedactingLog, Redactor } from './redact.js';
import { type Unprivileged, unprivileged } from './run-as.js';
import { tcpReady } from './supervise.js';

const execFileP = promisify(execFile);
const isRoot = process.getuid?.() === 0;

/** The real uid of a running process, from /proc. */
async function uidOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
}

describe('addon-sdk unprivileged (run a backing server as another user when root)', function () {
  this.timeout(30_000);
  let root: string;
  const lines: string[] = [];
  const log = createRedactingLog(new Redactor(), (level, m) => lines.push(`${level}: ${m}`));
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'slipway-run-as-'));
    lines.length = 0;
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('is the platform user, with no-op steps, when not root', async function () {
    if (isRoot) {
      console.warn('    ⚠ SKIPPED: runs as root here; the not-root path needs an ordinary user');
      this.skip();
    }
    const u = await unprivileged({ preferred: ['postgres', 'nobody'], log });
    expect(u.user).to.equal(undefined);
    expect(u.uid).to.equal(process.getuid?.());
    expect(u.wrap('postgres', ['-D', 'x'])).to.deep.equal({ command: 'postgres', args: ['-D', 'x'] });
    await u.prepareDir(join(root, 'a/b'));
    expect((await stat(join(root, 'a/b'))).isDirectory()).to.equal(true);
  });

  describe('as root', () => {
    let u: Unprivileged;
    before(async function () {
      if (!isRoot) {
        console.warn('    ⚠ SKIPPED: these tests need root (dropping privileges is what they check)');
        this.skip();
      }
      u = await unprivileged({
        preferred: ['slipway-no-such-user', 'nobody'],
        purpose: 'the test server',
        log,
      });
    });

    it('takes the first preferred account that exists', async () => {
      const nobody = await lookupUser('nobody');
      expect(u.user).to.deep.equal(nobody);
      expect(u.uid).to.equal(nobody?.uid);
      expect(u.uid).to.not.equal(0);
    });

    it('wraps a command so it really runs as that user', async () => {
      const { command, args } = u.wrap('id', ['-u']);
      expect(command).to.equal('setpriv');
      const { stdout } = await execFileP(command, args);
      expect(Number(stdout.trim())).to.equal(u.uid);
    });

    it('prepares a dir under a 0700 parent: owned by the user, reachable, and says what it changed', async () => {
      const parent = join(root, 'private');
      await execFileP('install', ['-d', '-m', '0700', parent]);
      const data = join(parent, 'data/cluster');
      await u.prepareDir(data, { mode: 0o700 });
      expect((await stat(data)).uid).to.equal(u.uid);
      expect((await stat(parent)).mode & 0o777).to.equal(0o701);
      expect(lines.some((l) => l.includes(`added o+x (search only) to ${parent}`))).to.equal(true);
      const { command, args } = u.wrap('touch', [join(data, 'written-by-server')]);
      await execFileP(command, args);
      expect((await stat(join(data, 'written-by-server'))).uid).to.equal(u.uid);
    });

    it('refuses a missing account and uid 0 with a coded error naming the fix', async () => {
      type Coded = { code?: string; message: string; describe(): string };
      const missing = (await unprivileged({ user: 'slipway-no-such-user', purpose: 'PostgreSQL' }).catch(
        (e: unknown) => e,
      )) as Coded;
      expect(missing).to.include({ code: 'SLIPWAY_ERR_ADDON_RUN_AS' });
      expect(missing.message).to.contain('cannot run PostgreSQL as slipway-no-such-user: no such user');
      expect(missing.describe()).to.contain('runAs');
      const zero = (await unprivileged({ user: 'root' }).catch((e: unknown) => e)) as Coded;
      expect(zero.message).to.contain('it is root (uid 0)');
    });

    it('ctx.runAs + ctx.supervise: the supervised pid is the server itself, as that user', async () => {
      const script = join(root, 'server.js');
      await writeFile(
        script,
        "require('net').createServer((c) => c.end('hi')).listen(Number(process.env.P), '127.0.0.1');\n",
      );
      const port = await new Promise<number>((res) => {
        const s = createServer().listen(0, '127.0.0.1', () => {
          const p = (s.address() as { port: number }).port;
          s.close(() => res(p));
        });
      });
      let pid: number | undefined;
      const plugin = defineAddon(
        {
          id: 'kv',
          name: 'KV',
          plans: ['dev'],
          configVars: ['KV_URL'],
          async setup(ctx: ProviderContext) {
            const runAs = await ctx.runAs({ preferred: ['nobody'], purpose: 'kv-server' });
            await runAs.prepareDir(join(ctx.dataDir, 'server'));
            const { command, args } = runAs.wrap(process.execPath, [script]);
            const s = await ctx.supervise({
              name: 'kv',
              command,
              args,
              env: { P: String(port) },
              ready: tcpReady(port),
            });
            pid = s.pid;
          },
          provision: () => ({ id: 'kv-1', config: { KV_URL: `kv://127.0.0.1:${port}` } }),
          deprovision: () => {},
        },
        { log: () => {} },
      );
      const kernel = new Kernel();
      await kernel.use(plugin, { dataDir: join(root, 'platform') });
      await kernel.start();
      try {
        expect(pid).to.be.a('number');
        expect(await uidOf(pid as number)).to.equal(u.uid);
        expect((await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')).to.include(script);
      } finally {
        await kernel.close();
      }
    });
  });
});
