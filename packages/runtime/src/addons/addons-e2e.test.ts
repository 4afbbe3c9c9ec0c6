/**
 * Add-ons end to end through the CLI against a running platform process: a real Postgres
 * add-on used by a real app through the router, a remote partner-API provider (served here with
 * `serveAddon`) registered from the config file's `platform.addons`, and a provider failing
 * mid-provision that leaves nothing behind.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findServerBinDir } from '@slipway/addon-postgres';
import { type AddonDefinition, type AddonServer, manifestOf, serveAddon } from '@slipway/addon-sdk';
import { expect } from 'chai';
import { fixtureCopy, PlatformProcess, removeFixtureCopies } from '../platform-harness.test-helper.js';

const pkg = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));

/** Send one message over SMTP with AUTH PLAIN (what an app's mailer does with SMTP_URL). */
async function sendMail(smtpUrl: string, subject: string): Promise<void> {
  const u = new URL(smtpUrl);
  const auth = Buffer.from(`\0${decodeURIComponent(u.username)}\0${decodeURIComponent(u.password)}`).toString(
    'base64',
  );
  const socket = connect(Number(u.port), u.hostname);
  socket.setEncoding('utf8');
  let buf = '';
  const reply = () =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const m = /(?:^|\n)(\d{3}) [^\n]*\n$/.exec(buf);
        if (!m) return;
        socket.off('data', onData);
        const r = buf;
        buf = '';
        if (Number(m[1]) >= 400) reject(new Error(`SMTP: ${r.trim()}`));
        else resolve(r);
      };
      const onData = (c: string) => {
        buf += c.replace(/\r/g, '');
        check();
      };
      socket.on('data', onData);
      check();
    });
  const say = (line: string) => {
    socket.write(`${line}\r\n`);
    return reply();
  };
  await reply();
  await say('EHLO test');
  await say(`AUTH PLAIN ${auth}`);
  await say('MAIL FROM:<app@notes.test>');
  await say('RCPT TO:<user@example.test>');
  await say('DATA');
  await say(`From: app@notes.test\r\nTo: user@example.test\r\nSubject: ${subject}\r\n\r\nhello\r\n.`);
  await say('QUIT');
  socket.end();
}

/** A partner-API provider: a key/value namespace per resource; plan `broken` fails mid-provision. */
function kvProvider(made: Set<string>): AddonDefinition<Record<string, unknown>, undefined> {
  return {
    id: 'kv',
    name: 'Remote KV',
    plans: [{ name: 'dev', default: true }, { name: 'pro' }, { name: 'broken' }],
    configVars: ['KV_URL'],
    async provision(req) {
      const id = `kv-${req.uuid.slice(0, 8)}`;
      made.add(id);
      if (req.plan === 'broken') {
        made.delete(id);
        throw new Error('kv storage node went away mid-provision');
      }
      return { id, config: { KV_URL: `http://kv.test/${id}?plan=${req.plan}` } };
    },
    async planChange(req) {
      return { id: req.id, config: { KV_URL: `http://kv.test/${req.id}?plan=${req.plan}` } };
    },
    async deprovision(req) {
      made.delete(req.id);
    },
  };
}

describe('add-ons through the CLI (postgres, a remote partner-API provider, failures)', function () {
  this.timeout(300_000);
  let dir: string;
  let p: PlatformProcess | undefined;
  let kv: AddonServer;
  const made = new Set<string>();
  let hasPostgres = false;

  before(async () => {
    hasPostgres = !!(await findServerBinDir());
    if (!hasPostgres) {
      const why = 'PostgreSQL server binaries (initdb, postgres) are not installed (Debian: postgresql)';
      if (process.env.CI === 'true') throw new Error(why);
      console.warn(`SKIPPED add-on e2e postgres parts: ${why}`);
    }
    dir = await mkdtemp(join(tmpdir(), 'slipway-addons-e2e-'));
    await chmod(dir, 0o755);
    kv = await serveAddon(kvProvider(made), {
      password: 'kv-partner-secret',
      dataDir: join(dir, 'kv-provider'),
      log: () => {},
    });
    await writeFile(join(dir, 'kv-manifest.json'), JSON.stringify(manifestOf(kvProvider(made))));
    const config = join(dir, 'slipway.config.json');
    await writeFile(
      config,
      JSON.stringify({
        defaults: false,
        plugins: [pkg('buildpacks/nodejs'), pkg('addons/postgres'), pkg('addons/mail')],
        platform: {
          addons: {
            remote: [{ manifest: './kv-manifest.json', url: kv.url, password: 'kv-partner-secret' }],
          },
        },
      }),
    );
    p = await PlatformProcess.start(join(dir, 'data'), ['--config', config]);
    await p.ok(['apps:create', 'notes']);
  });

  after(async () => {
    await p?.kill();
    await kv?.close();
    await removeFixtureCopies();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const releases = async () => JSON.parse(await p!.ok(['releases', '-a', 'notes', '--json'])) as unknown[];
  const config = async () =>
    JSON.parse(await p!.ok(['config', '-a', 'notes', '--json'])) as Record<string, string>;
  const json = async (path: string) => {
    const r = await p!.get('notes', path);
    expect(r.status, r.body).to.equal(200);
    return JSON.parse(r.body);
  };

  it('addons:create postgres gives the app DATABASE_URL in a release; the app writes and reads through it', async function () {
    if (!hasPostgres) this.skip();
    const before = (await releases()).length;
    const created = await p!.ok(['addons:create', 'postgres', '-a', 'notes']);
    expect(created).to.match(/Created POSTGRES \(postgres:shared\) as POSTGRES_URL, DATABASE_URL/);
    expect((await releases()).length).to.equal(before + 1);
    expect((await config()).DATABASE_URL).to.match(/^postgres:\/\/u\w+:[^@]+@127\.0\.0\.1:\d+\/d\w+$/);
    expect(await p!.ok(['addons', '-a', 'notes'])).to.match(/POSTGRES\s+postgres:shared\s+POSTGRES_URL/);
    expect(await p!.ok(['addons:info', 'POSTGRES', '-a', 'notes'])).to.match(/Plan:\s+postgres:shared/);

    await p!.ok(['deploy', await fixtureCopy('pg-app'), '-a', 'notes'], 240_000);
    expect(await json('/write?v=first')).to.deep.equal({ notes: ['first'] });
    expect(await json('/write?v=second')).to.deep.equal({ notes: ['first', 'second'] });

    const psql = await p!.ok(['pg:psql', '-a', 'notes', '-c', 'SELECT body FROM notes ORDER BY id']);
    expect(psql).to.match(/first\n\s*second/);
    const backup = await p!.ok(['pg:backups:capture', '-a', 'notes']);
    expect(backup).to.match(/Backup b001 of d\w+ captured/);
    expect(await json('/write?v=third')).to.deep.equal({ notes: ['first', 'second', 'third'] });
    await p!.ok(['pg:backups:restore', 'b001', '-a', 'notes']);
    expect(await json('/read')).to.deep.equal({ notes: ['first', 'second'] });
    expect(await p!.ok(['pg:backups', '-a', 'notes'])).to.match(/b001/);
  });

  it('a remote partner-API provider from platform.addons: create, upgrade, destroy; a second destroy is a clear error', async () => {
    const before = (await releases()).length;
    await p!.ok(['addons:create', 'kv', '-a', 'notes', '--as', 'KV']);
    const url = (await config()).KV_URL as string;
    expect(url).to.match(/^http:\/\/kv\.test\/kv-\w+\?plan=dev$/);
    expect(made.size).to.equal(1);
    await p!.ok(['addons:upgrade', 'KV', 'pro', '-a', 'notes']);
    expect((await config()).KV_URL).to.equal(url.replace('plan=dev', 'plan=pro'));
    if (hasPostgres) expect(await json('/env')).to.deep.include({ kv: url.replace('plan=dev', 'plan=pro') });
    const destroyed = await p!.ok(['addons:destroy', 'KV', '-a', 'notes']);
    expect(destroyed).to.match(/Destroying KV on notes\.\.\. done \(unset KV_URL\)/);
    expect(made.size).to.equal(0);
    expect(await config()).not.to.have.property('KV_URL');
    expect((await releases()).length).to.equal(before + 3);
    const again = await p!.cli(['addons:destroy', 'KV', '-a', 'notes']);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.match(
      /add-on KV is not attached to notes \(already destroyed, or never created\)/,
    );
    expect(again.stderr).to.match(/slipway addons -a notes/);
  });

  it('unknown services and plans, and a provider failing mid-provision, change nothing', async () => {
    const before = { releases: (await releases()).length, config: await config() };
    const unknown = await p!.cli(['addons:create', 'nosuch', '-a', 'notes']);
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.match(/add-on nosuch: no such add-on service/);
    expect(unknown.stderr).to.match(/Installed add-on services: .*kv/);
    const plan = await p!.cli(['addons:create', 'kv:huge', '-a', 'notes']);
    expect(plan.stderr).to.match(/no plan huge \(plans: dev, pro, broken\)/);

    const failed = await p!.cli(['addons:create', 'kv:broken', '-a', 'notes']);
    expect(failed.code).to.equal(1);
    expect(failed.stderr).to.match(/add-on provider remote-addon-kv failed to provision kv/);
    expect(failed.stderr).to.match(/Nothing was attached and no config var changed/);
    expect(made.size).to.equal(0);
    expect(await p!.ok(['addons', '-a', 'notes', '--json'])).not.to.match(/"kv"/);
    expect(await config()).to.deep.equal(before.config);
    expect((await releases()).length).to.equal(before.releases);
  });

  it('mail: an app sends through SMTP_URL and `slipway mail` lists and shows it', async () => {
    await p!.ok(['addons:create', 'mail', '-a', 'notes']);
    const smtp = (await config()).SMTP_URL as string;
    expect(smtp).to.match(/^smtp:\/\/mail-\w+:[^@]+@127\.0\.0\.1:\d+$/);
    await sendMail(smtp, 'Order shipped');
    const list = await p!.ok(['mail', '-a', 'notes']);
    expect(list).to.match(/app@notes\.test\s+user@example\.test\s+Order shipped/);
    const [msg] = JSON.parse(await p!.ok(['mail', '-a', 'notes', '--json'])) as { id: string }[];
    expect(await p!.ok(['mail', msg!.id, '-a', 'notes'])).to.match(/Subject:\s+Order shipped[\s\S]*hello/);
  });

  it('a platform restart keeps the database and its data', async function () {
    if (!hasPostgres) this.skip();
    await p!.kill('SIGTERM');
    p = await PlatformProcess.start(
      p!.dataDir,
      p!.child.spawnargs.slice(p!.child.spawnargs.indexOf('--config')),
    );
    for (let i = 0; i < 100; i++) {
      const r = await p.get('notes', '/read').catch(() => ({ status: 0, body: '' }));
      if (r.status === 200) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(await json('/read')).to.deep.equal({ notes: ['first', 'second'] });
    expect(await p.ok(['mail', '-a', 'notes'])).to.match(/Order shipped/);
    await p.ok(['addons:destroy', 'POSTGRES', '-a', 'notes']);
    expect(await config()).not.to.have.property('DATABASE_URL');
  });
});
