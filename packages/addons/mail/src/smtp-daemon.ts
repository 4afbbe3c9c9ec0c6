/**
 * The SMTP endpoint, run as its own process under the SDK's supervisor (so the platform can stop
 * and restart it like any backing server, and a malformed message cannot take the platform
 * down). Each add-on authenticates with its own user and password (AUTH PLAIN or LOGIN);
 * what it sends is stored in its own mailbox whatever the recipients, parsed with mailparser,
 * and optionally relayed to an upstream SMTP server. Accounts are read from disk at every AUTH,
 * so a provision or deprovision takes effect without a reload.
 * Configuration comes in SLIPWAY_MAIL_DAEMON (JSON), not argv, because the relay URL may hold
 * credentials.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { daemonPidFile } from './leftover.js';
import {
  type MailAccount,
  passwordMatches,
  pruneMailbox,
  readAccount,
  type StoredMessage,
  storeMessage,
  updateMessage,
} from './mailbox.js';
import { mailPlan } from './plans.js';

/** The daemon's configuration. */
export interface MailDaemonConfig {
  dataDir: string;
  port: number;
  listen: string;
  /** Upper bound over every plan's message size (option `maxMessageBytes`). */
  maxMessageBytes?: number;
  relay?: { url: string };
}

function limitOf(account: MailAccount, cfg: MailDaemonConfig): number {
  const plan = mailPlan(account.plan).maxMessageBytes;
  return cfg.maxMessageBytes ? Math.min(plan, cfg.maxMessageBytes) : plan;
}

function smtpError(message: string, responseCode: number): Error {
  return Object.assign(new Error(message), { responseCode });
}

const addressText = (a: unknown): string =>
  a ? (Array.isArray(a) ? a.map((x) => x.text).join(', ') : (a as { text: string }).text) : '';

async function receive(
  cfg: MailDaemonConfig,
  session: SMTPServerSession,
  stream: SMTPServerDataStream,
): Promise<void> {
  const account = (session.user ? await readAccount(cfg.dataDir, session.user) : undefined) as
    | MailAccount
    | undefined;
  if (!account) throw smtpError('Authentication required', 530);
  const limit = limitOf(account, cfg);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  if (size > limit || stream.sizeExceeded)
    throw smtpError(`Message size ${size} exceeds the limit of ${limit} bytes for this add-on`, 552);
  const raw = Buffer.concat(chunks);
  // Loaded on first message, not at start: the endpoint must be up quickly after a platform restart.
  const { simpleParser } = await import('mailparser');
  const parsed = await simpleParser(raw);
  const id = `${Date.now().toString().padStart(15, '0')}-${randomBytes(4).toString('hex')}`;
  const msg: StoredMessage = {
    id,
    receivedAt: new Date().toISOString(),
    envelope: {
      from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
      to: session.envelope.rcptTo.map((r) => r.address),
    },
    from: addressText(parsed.from),
    to: addressText(parsed.to),
    ...(parsed.cc ? { cc: addressText(parsed.cc) } : {}),
    subject: parsed.subject ?? '',
    ...(parsed.date ? { date: parsed.date.toISOString() } : {}),
    ...(parsed.messageId ? { messageId: parsed.messageId } : {}),
    ...(parsed.text !== undefined ? { text: parsed.text } : {}),
    ...(typeof parsed.html === 'string' ? { html: parsed.html } : {}),
    attachments: parsed.attachments.map((a) => ({
      ...(a.filename ? { filename: a.filename } : {}),
      contentType: a.contentType,
      size: a.size,
    })),
    size,
  };
  await storeMessage(cfg.dataDir, account.id, msg, raw);
  await pruneMailbox(cfg.dataDir, account.id, mailPlan(account.plan).keep);
  console.log(
    `stored message ${id} for ${account.id} (${size} bytes, ${msg.envelope.to.length} recipient(s))`,
  );
  if (cfg.relay) void relay(cfg, account.id, msg, raw);
}

/** Relay after accepting: the app's send never waits on (or fails with) the upstream server. */
async function relay(cfg: MailDaemonConfig, mailbox: string, msg: StoredMessage, raw: Buffer): Promise<void> {
  const nodemailer = (await import('nodemailer')).default;
  const transport = nodemailer.createTransport(cfg.relay!.url);
  try {
    const info = await transport.sendMail({ envelope: msg.envelope, raw });
    msg.relay = { status: 'sent', detail: String(info.response ?? 'ok'), at: new Date().toISOString() };
  } catch (e) {
    msg.relay = { status: 'failed', detail: (e as Error).message, at: new Date().toISOString() };
    console.error(`relay of ${msg.id} failed: ${(e as Error).message}`);
  } finally {
    transport.close();
  }
  await updateMessage(cfg.dataDir, mailbox, msg).catch(() => {});
}

/** Start the SMTP server; resolves once it listens. */
export async function startMailDaemon(cfg: MailDaemonConfig): Promise<SMTPServer> {
  const server = new SMTPServer({
    name: 'slipway-mail',
    banner: 'Slipway mail add-on',
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: false,
    // Loopback, no certificate: offer AUTH without TLS and do not advertise a STARTTLS that a
    // client would then fail to verify.
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    size: cfg.maxMessageBytes ?? Math.max(...[10, 25].map((m) => m * 1024 * 1024)),
    logger: false,
    async onAuth(auth, _session, cb) {
      const user = auth.username ?? '';
      const account = /^[A-Za-z0-9._-]+$/.test(user) ? await readAccount(cfg.dataDir, user) : undefined;
      if (!account || !passwordMatches(account, auth.password ?? ''))
        return cb(smtpError('Invalid username or password', 535));
      cb(null, { user: account.id });
    },
    onMailFrom(address, session, cb) {
      const args = address.args ? (address.args as Record<string, string>) : {};
      const declared = Number(args.SIZE ?? 0);
      readAccount(cfg.dataDir, String(session.user)).then(
        (account) => {
          if (!account) return cb(smtpError('Authentication required', 530));
          if (declared > limitOf(account, cfg))
            return cb(smtpError(`Message size exceeds the limit of ${limitOf(account, cfg)} bytes`, 552));
          cb();
        },
        (e) => cb(e as Error),
      );
    },
    onData(stream, session, cb) {
      receive(cfg, session, stream).then(
        () => cb(),
        (e) => {
          // Drain what is left so the connection can go on to the next command.
          stream.resume();
          stream.once('end', () => cb(e as Error));
          if (stream.readableEnded) cb(e as Error);
        },
      );
    },
  });
  server.on('error', (e) => console.error(`smtp: ${e.message}`));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, cfg.listen, () => resolve());
  });
  return server;
}

// Run as a program (the provider spawns `node smtp-daemon.js`).
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const cfg = JSON.parse(process.env.SLIPWAY_MAIL_DAEMON ?? '{}') as MailDaemonConfig;
  startMailDaemon(cfg).then(
    async () => {
      // The pid file lets the next platform stop this daemon if its parent dies without doing so.
      await writeFile(daemonPidFile(cfg.dataDir), `${process.pid}\n`);
      console.log(`SMTP listening on ${cfg.listen}:${cfg.port}`);
    },
    (e) => {
      console.error(`cannot start SMTP on ${cfg.listen}:${cfg.port}: ${(e as Error).message}`);
      process.exit(1);
    },
  );
  process.on('SIGTERM', () => process.exit(0));
}
