import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  type AddonPlugin,
  defineAddon,
  describeConformance,
  isAddonPlugin,
  Kernel,
  type ProvisionRequest,
  type ProvisionResult,
} from '@slipway/addon-sdk';
import { expect } from 'chai';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import plugin, {
  getMessage,
  listMessages,
  type MailOptions,
  type MailState,
  mailDataDir,
  mailDefinition,
} from './index.js';

const run = promisify(execFile);

function req(uuid: string, app: string, extra: Partial<ProvisionRequest> = {}): ProvisionRequest {
  return { service: 'mail', plan: 'dev', uuid, app, name: '', options: {}, ...extra };
}

/** A real upstream SMTP server for the relay: no auth, stores what it receives. */
async function upstreamServer(): Promise<{ port: number; received: string[]; close(): Promise<void> }> {
  const received: string[] = [];
  const srv = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _s, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push(Buffer.concat(chunks).toString());
        cb();
      });
    },
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.server.address() as { port: number }).port;
  return { port, received, close: () => new Promise((r) => srv.close(() => r())) };
}

const PY_SEND = `
import smtplib, sys
host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = smtplib.SMTP(host, port, timeout=10)
s.login(user, password)
s.sendmail('py@sender.test', ['inbox@example.test'], 'From: py@sender.test\\r\\nTo: inbox@example.test\\r\\nSubject: from smtplib\\r\\n\\r\\nhello from python\\r\\n')
s.quit()
`;

/** Skip (loudly) where python3 is missing; fail in CI, which must install it. */
async function requirePython(ctx: Mocha.Context): Promise<void> {
  if (
    await run('python3', ['--version']).then(
      () => true,
      () => false,
    )
  )
    return;
  const why = 'python3 is not installed (Debian: apt-get install python3); it runs the smtplib client';
  if (process.env.CI === 'true') throw new Error(why);
  console.warn(`\n  !!! SKIPPING: ${why}\n`);
  ctx.skip();
}

async function until<T>(fn: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
}

describe('addon-mail', function () {
  this.timeout(60_000);
  let dataDir: string;
  let mailDir: string;
  let logs: string[];
  let provider: AddonPlugin<MailOptions, MailState>;
  let kernel: Kernel;
  let upstream: Awaited<ReturnType<typeof upstreamServer>>;
  let a: ProvisionResult;
  let b: ProvisionResult;

  const newKernel = async () => {
    provider = defineAddon(mailDefinition, { log: (level, m) => logs.push(`${level}: ${m}`) });
    kernel = new Kernel();
    await kernel.use(provider, {
      dataDir,
      maxMessageBytes: 64 * 1024,
      relayUrl: `smtp://127.0.0.1:${upstream.port}`,
    });
    await kernel.start();
  };

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'slipway-mail-test-'));
    mailDir = mailDataDir(dataDir);
    logs = [];
    upstream = await upstreamServer();
    await newKernel();
    a = (await kernel.hooks.provision.for('mail').promise(req('uuid-a', 'app-a')))!;
    b = (await kernel.hooks.provision.for('mail').promise(req('uuid-b', 'app-b', { name: 'alerts' })))!;
  });

  after(async () => {
    await provider?.close();
    await upstream?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('exports a defineAddon plugin; sets SMTP_URL and MAIL_SMTP_* (renamed by attachment)', () => {
    expect(isAddonPlugin(plugin)).to.equal(true);
    expect(Object.keys(a.config).sort()).to.deep.equal([
      'MAIL_SMTP_HOST',
      'MAIL_SMTP_PASSWORD',
      'MAIL_SMTP_PORT',
      'MAIL_SMTP_USER',
      'SMTP_URL',
    ]);
    expect(Object.keys(b.config).sort()).to.deep.equal([
      'ALERTS_SMTP_HOST',
      'ALERTS_SMTP_PASSWORD',
      'ALERTS_SMTP_PORT',
      'ALERTS_SMTP_USER',
      'SMTP_URL',
    ]);
    const u = new URL(a.config.SMTP_URL!);
    expect(u.protocol).to.equal('smtp:');
    expect(u.username).to.equal(a.config.MAIL_SMTP_USER);
    expect(decodeURIComponent(u.password)).to.equal(a.config.MAIL_SMTP_PASSWORD);
    expect(u.port).to.equal(a.config.MAIL_SMTP_PORT);
  });

  it('nodemailer sends through SMTP_URL; the message is parsed, stored and shown', async () => {
    const t = nodemailer.createTransport(a.config.SMTP_URL!);
    await t.sendMail({
      from: 'app@sender.test',
      to: 'user@example.test',
      subject: 'Welcome',
      text: 'plain body',
      html: '<p>html body</p>',
      attachments: [{ filename: 'note.txt', content: 'attached' }],
    });
    t.close();
    const list = await listMessages({ dataDir: mailDir, id: a.id });
    expect(list).to.have.length(1);
    expect(list[0]).to.include({ subject: 'Welcome', from: 'app@sender.test', to: 'user@example.test' });
    expect(list[0]!.attachments).to.deep.equal([
      { filename: 'note.txt', contentType: 'text/plain', size: 8 },
    ]);
    const full = await getMessage({ dataDir: mailDir, id: a.id, messageId: list[0]!.id });
    expect(full.text?.trim()).to.equal('plain body');
    expect(full.html).to.include('<p>html body</p>');
    expect(full.raw).to.include('Subject: Welcome');
  });

  it("Python's smtplib logs in with MAIL_SMTP_* and sends; the mail shows up", async function () {
    await requirePython(this);
    const c = b.config;
    await run('python3', [
      '-c',
      PY_SEND,
      c.ALERTS_SMTP_HOST!,
      c.ALERTS_SMTP_PORT!,
      c.ALERTS_SMTP_USER!,
      c.ALERTS_SMTP_PASSWORD!,
    ]);
    const list = await listMessages({ dataDir: mailDir, id: b.id });
    expect(list.map((m) => m.subject)).to.deep.equal(['from smtplib']);
    expect(list[0]!.envelope).to.deep.equal({ from: 'py@sender.test', to: ['inbox@example.test'] });
  });

  it("refuses a wrong password, and one add-on's password for another's user", async function () {
    await requirePython(this);
    const wrong = nodemailer.createTransport({
      host: '127.0.0.1',
      port: Number(a.config.MAIL_SMTP_PORT),
      auth: { user: a.config.MAIL_SMTP_USER!, pass: 'not-the-password' },
    });
    const err = await wrong.sendMail({ from: 'x@y.test', to: 'z@y.test', text: 'x' }).catch((e) => e);
    expect(err.responseCode).to.equal(535);
    const cross = nodemailer.createTransport({
      host: '127.0.0.1',
      port: Number(a.config.MAIL_SMTP_PORT),
      auth: { user: b.config.ALERTS_SMTP_USER!, pass: a.config.MAIL_SMTP_PASSWORD! },
    });
    expect(
      (await cross.sendMail({ from: 'x@y.test', to: 'z@y.test', text: 'x' }).catch((e) => e)).responseCode,
    ).to.equal(535);
    const py = await run('python3', [
      '-c',
      PY_SEND,
      '127.0.0.1',
      a.config.MAIL_SMTP_PORT!,
      a.config.MAIL_SMTP_USER!,
      'nope',
    ]).catch((e) => e);
    expect(String(py.stderr)).to.include('SMTPAuthenticationError');
    // Nothing reached either mailbox, and A's mail never appears in B's.
    expect(await listMessages({ dataDir: mailDir, id: a.id })).to.have.length(1);
    expect((await listMessages({ dataDir: mailDir, id: b.id })).map((m) => m.subject)).to.deep.equal([
      'from smtplib',
    ]);
  });

  it('refuses a message over the size limit with 552 and stores nothing', async () => {
    const t = nodemailer.createTransport(a.config.SMTP_URL!);
    const err = await t
      .sendMail({ from: 'a@y.test', to: 'b@y.test', text: 'x'.repeat(100 * 1024) })
      .catch((e) => e);
    t.close();
    expect(err.responseCode).to.equal(552);
    expect(await listMessages({ dataDir: mailDir, id: a.id })).to.have.length(1);
  });

  it('relays accepted mail to the upstream SMTP server from the options', async () => {
    const relayed = await until(async () =>
      upstream.received.some((m) => m.includes('Subject: Welcome')) ? true : undefined,
    );
    expect(relayed).to.equal(true);
    const [m] = await listMessages({ dataDir: mailDir, id: a.id });
    const status = await until(
      async () => (await getMessage({ dataDir: mailDir, id: a.id, messageId: m!.id })).relay,
    );
    expect(status.status).to.equal('sent');
  });

  it('never logs a password', () => {
    const all = logs.join('\n');
    expect(all).to.include('stored message');
    for (const r of [a.config.MAIL_SMTP_PASSWORD!, b.config.ALERTS_SMTP_PASSWORD!])
      expect(all).not.to.include(r);
  });

  it('platform restart keeps the mailboxes, the port and the credentials', async () => {
    await provider.close();
    await newKernel();
    expect(await listMessages({ dataDir: mailDir, id: a.id })).to.have.length(1);
    const t = nodemailer.createTransport(a.config.SMTP_URL!);
    await t.sendMail({
      from: 'app@sender.test',
      to: 'user@example.test',
      subject: 'After restart',
      text: 'still here',
    });
    t.close();
    expect((await listMessages({ dataDir: mailDir, id: a.id })).map((m) => m.subject)).to.deep.equal([
      'After restart',
      'Welcome',
    ]);
  });

  it('a daemon left over by a SIGKILLed platform is stopped, and the next start takes its port', async () => {
    await provider.close();
    // What a SIGKILLed platform leaves behind: the daemon, orphaned, still listening on the port.
    const port = String(new URL(a.config.SMTP_URL!).port);
    const orphan = spawn(process.execPath, [fileURLToPath(new URL('./smtp-daemon.js', import.meta.url))], {
      env: {
        ...process.env,
        SLIPWAY_MAIL_DAEMON: JSON.stringify({ dataDir: mailDir, port: Number(port), listen: '127.0.0.1' }),
      },
      stdio: 'ignore',
      detached: true,
    });
    const exited = new Promise((r) => orphan.once('exit', r));
    for (let i = 0; i < 100; i++) {
      if (Number((await readFile(join(mailDir, 'smtp.pid'), 'utf8').catch(() => '')).trim()) === orphan.pid)
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await newKernel();
    await exited;
    expect(logs.some((l) => l.includes(`pid ${orphan.pid}) left over`))).to.equal(true);
    const t = nodemailer.createTransport(a.config.SMTP_URL!);
    await t.sendMail({ from: 'app@sender.test', to: 'u@example.test', subject: 'After leftover', text: 'x' });
    t.close();
    expect((await listMessages({ dataDir: mailDir, id: a.id }))[0]?.subject).to.equal('After leftover');
  });

  it('deprovision removes the account and its mail; a second one is a no-op', async () => {
    const dreq = { service: 'mail', uuid: 'uuid-b', app: 'app-b', id: b.id };
    await kernel.hooks.deprovision.for('mail').promise(dreq);
    const t = nodemailer.createTransport(b.config.SMTP_URL!);
    expect(
      (await t.sendMail({ from: 'x@y.test', to: 'z@y.test', text: 'x' }).catch((e) => e)).responseCode,
    ).to.equal(535);
    const err = await listMessages({ dataDir: mailDir, id: b.id }).catch((e) => e);
    expect(err.code).to.equal('SLIPWAY_ERR_MAIL_NO_MAILBOX');
    await kernel.hooks.deprovision.for('mail').promise(dreq);
  });

  it('names an unknown message with a coded error', async () => {
    const err = await getMessage({ dataDir: mailDir, id: a.id, messageId: 'nope' }).catch((e) => e);
    expect(err.code).to.equal('SLIPWAY_ERR_MAIL_NO_MESSAGE');
  });

  describeConformance(() => plugin, { title: 'conformance kit' });
});
