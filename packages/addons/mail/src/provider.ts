/**
 * The mail provider: one SMTP endpoint for the platform (a supervised child process, see
 * smtp-daemon.ts) and, per add-on, an account with a random password and a mailbox in the data
 * dir. The endpoint's port is chosen once and kept, because every app's SMTP_URL carries it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type AddonDefinition,
  connectHost,
  freePort,
  type ProviderContext,
  portIsFree,
  tcpReady,
} from '@slipway/addon-sdk';
import { mailActions } from './actions.js';
import { mailErrors } from './errors.js';
import { stopLeftoverDaemon } from './leftover.js';
import { hashPassword, readAccount, removeMailbox, writeAccount } from './mailbox.js';
import { MAIL_PLANS } from './plans.js';
import type { MailDaemonConfig } from './smtp-daemon.js';

/** Plugin options of the mail provider. */
export interface MailOptions {
  /** SMTP port (default: a free port chosen on first start and kept). */
  port?: number;
  /** Address the SMTP endpoint listens on (default 127.0.0.1). */
  listen?: string;
  /** Host put in SMTP_URL (default 127.0.0.1). */
  host?: string;
  /** Cap on message size over every plan, in bytes. */
  maxMessageBytes?: number;
  /** Relay every accepted message to this upstream (`smtp://user:pass@smtp.example.com:587`). */
  relayUrl?: string;
}

/** What `setup` keeps. */
export interface MailState {
  port: number;
}

/** The config vars: Heroku-style SMTP_URL plus the MAIL_SMTP_* parts (renamed by attachment). */
export const MAIL_CONFIG_VARS = [
  'SMTP_URL',
  'MAIL_SMTP_HOST',
  'MAIL_SMTP_PORT',
  'MAIL_SMTP_USER',
  'MAIL_SMTP_PASSWORD',
] as const;

const daemonPath = fileURLToPath(new URL('./smtp-daemon.js', import.meta.url));

async function choosePort(ctx: ProviderContext<MailOptions, undefined>, listen: string): Promise<number> {
  if (ctx.options.port) return ctx.options.port;
  const file = join(ctx.dataDir, 'server.json');
  try {
    return (JSON.parse(await readFile(file, 'utf8')) as { port: number }).port;
  } catch {
    const port = await freePort(connectHost(listen));
    await writeFile(file, `${JSON.stringify({ port }, null, 2)}\n`);
    return port;
  }
}

async function setup(ctx: ProviderContext<MailOptions, undefined>): Promise<MailState> {
  const listen = ctx.options.listen ?? '127.0.0.1';
  await mkdir(join(ctx.dataDir, 'mailboxes'), { recursive: true, mode: 0o700 });
  const port = await choosePort(ctx, listen);
  await stopLeftoverDaemon(ctx.dataDir, (m) => ctx.log.warn(m));
  if (!(await portIsFree(port, connectHost(listen))))
    throw mailErrors.SLIPWAY_ERR_MAIL_PORT_BUSY({ port, listen });
  const cfg: MailDaemonConfig = {
    dataDir: ctx.dataDir,
    port,
    listen,
    ...(ctx.options.maxMessageBytes ? { maxMessageBytes: ctx.options.maxMessageBytes } : {}),
    ...(ctx.options.relayUrl ? { relay: { url: ctx.options.relayUrl } } : {}),
  };
  await ctx.supervise({
    name: `smtp:${port}`,
    command: process.execPath,
    args: [daemonPath],
    env: { SLIPWAY_MAIL_DAEMON: JSON.stringify(cfg) },
    ready: tcpReady(port, connectHost(listen)),
    readyTimeoutMs: 20_000,
    stopGraceMs: 3000,
  });
  return { port };
}

/** The provider definition (exported for tests and for serving it over the partner API). */
export const mailDefinition: AddonDefinition<MailOptions, MailState> = {
  id: 'mail',
  name: 'Slipway Mail',
  plans: MAIL_PLANS.map((p) => ({
    name: p.name,
    description: p.description,
    ...(p.default ? { default: true } : {}),
  })),
  configVars: [...MAIL_CONFIG_VARS],
  optionsSchema: {
    type: 'object',
    properties: {
      port: { type: 'integer', minimum: 1, maximum: 65535 },
      listen: { type: 'string' },
      host: { type: 'string' },
      maxMessageBytes: { type: 'integer', minimum: 1024 },
      relayUrl: { type: 'string', pattern: '^smtps?://' },
    },
  },
  setup,
  actions: mailActions,
  async provision(req, ctx) {
    const id = `mail-${randomBytes(6).toString('hex')}`;
    const password = ctx.secret(24);
    await writeAccount(ctx.dataDir, {
      id,
      user: id,
      passwordSha256: hashPassword(password),
      plan: req.plan,
      createdAt: new Date().toISOString(),
    });
    const host = ctx.options.host ?? '127.0.0.1';
    const port = String(ctx.state.port);
    return {
      id,
      config: {
        SMTP_URL: `smtp://${id}:${encodeURIComponent(password)}@${host}:${port}`,
        MAIL_SMTP_HOST: host,
        MAIL_SMTP_PORT: port,
        MAIL_SMTP_USER: id,
        MAIL_SMTP_PASSWORD: password,
      },
      message: `SMTP account ${id} on ${host}:${port}`,
    };
  },
  async planChange(req, ctx) {
    const account = await readAccount(ctx.dataDir, req.id);
    if (!account) throw mailErrors.SLIPWAY_ERR_MAIL_NO_MAILBOX({ id: req.id });
    await writeAccount(ctx.dataDir, { ...account, plan: req.plan });
    return undefined;
  },
  async deprovision(req, ctx) {
    await removeMailbox(ctx.dataDir, req.id);
  },
};
