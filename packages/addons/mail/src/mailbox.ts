/**
 * Mailboxes on disk, shared by the SMTP daemon (which writes) and the API helpers (which read):
 * `<dataDir>/mailboxes/<id>/account.json` (the SMTP user, a SHA-256 of its random password, the
 * plan) and `messages/<messageId>.eml` + `.json` per stored message.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mailErrors } from './errors.js';

/** Where the platform keeps the mail provider's data, given the platform data dir. */
export function mailDataDir(platformDataDir: string): string {
  return join(platformDataDir, 'addons', 'mail');
}

/** An SMTP account (one per add-on). */
export interface MailAccount {
  id: string;
  user: string;
  /** hex SHA-256 of the password (the password is 24 random bytes, so no stretching is needed). */
  passwordSha256: string;
  plan: string;
  createdAt: string;
}

/** What is stored about one message. */
export interface StoredMessage {
  id: string;
  receivedAt: string;
  envelope: { from: string; to: string[] };
  from: string;
  to: string;
  cc?: string;
  subject: string;
  date?: string;
  messageId?: string;
  text?: string;
  html?: string;
  attachments: { filename?: string; contentType: string; size: number }[];
  size: number;
  relay?: { status: 'sent' | 'failed'; detail: string; at: string };
}

/** A message in a listing (no bodies). */
export type MessageSummary = Omit<StoredMessage, 'text' | 'html'>;

const ID = /^[A-Za-z0-9._-]+$/;

/** The directory of a mailbox; ids are checked so that none can climb out of the data dir. */
export function mailboxDir(dataDir: string, id: string): string {
  if (!ID.test(id)) throw mailErrors.SLIPWAY_ERR_MAIL_NO_MAILBOX({ id });
  return join(dataDir, 'mailboxes', id);
}

/** SHA-256 hex of a password. */
export function hashPassword(password: string): string {
  return createHash('sha256').update(password).digest('hex');
}

/** Constant-time check of a password against an account. */
export function passwordMatches(account: MailAccount, password: string): boolean {
  const a = Buffer.from(hashPassword(password), 'hex');
  const b = Buffer.from(account.passwordSha256, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Write (or overwrite) an account. */
export async function writeAccount(dataDir: string, account: MailAccount): Promise<void> {
  const dir = mailboxDir(dataDir, account.id);
  await mkdir(join(dir, 'messages'), { recursive: true, mode: 0o700 });
  await writeFile(join(dir, 'account.json'), `${JSON.stringify(account, null, 2)}\n`, { mode: 0o600 });
}

/** The account of a mailbox, or undefined. */
export async function readAccount(dataDir: string, id: string): Promise<MailAccount | undefined> {
  try {
    return JSON.parse(await readFile(join(mailboxDir(dataDir, id), 'account.json'), 'utf8')) as MailAccount;
  } catch {
    return undefined;
  }
}

/** Delete a mailbox with its messages. */
export async function removeMailbox(dataDir: string, id: string): Promise<void> {
  await rm(mailboxDir(dataDir, id), { recursive: true, force: true });
}

/** Store a message (raw .eml first, then its .json); returns nothing, the caller has the id. */
export async function storeMessage(
  dataDir: string,
  mailbox: string,
  msg: StoredMessage,
  raw: Buffer,
): Promise<void> {
  const dir = join(mailboxDir(dataDir, mailbox), 'messages');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, `${msg.id}.eml`), raw, { mode: 0o600 });
  await writeFile(join(dir, `${msg.id}.json`), `${JSON.stringify(msg, null, 2)}\n`, { mode: 0o600 });
}

/** Update a stored message's metadata (e.g. its relay status). */
export async function updateMessage(dataDir: string, mailbox: string, msg: StoredMessage): Promise<void> {
  const dir = join(mailboxDir(dataDir, mailbox), 'messages');
  await writeFile(join(dir, `${msg.id}.json`), `${JSON.stringify(msg, null, 2)}\n`, { mode: 0o600 });
}

/** Delete the oldest messages beyond `keep`. */
export async function pruneMailbox(dataDir: string, mailbox: string, keep: number): Promise<void> {
  const dir = join(mailboxDir(dataDir, mailbox), 'messages');
  const ids = (await readdir(dir).catch(() => [] as string[]))
    .filter((n) => n.endsWith('.json'))
    .map((n) => n.slice(0, -5))
    .sort();
  for (const id of ids.slice(0, Math.max(0, ids.length - keep)))
    await Promise.all([
      rm(join(dir, `${id}.json`), { force: true }),
      rm(join(dir, `${id}.eml`), { force: true }),
    ]);
}

/** Options of the read helpers. */
export interface MailboxRef {
  /** The mail provider's data dir (see `mailDataDir`). */
  dataDir: string;
  /** The add-on's resource id. */
  id: string;
}

/** `slipway mail -a APP`: the messages of a mailbox, newest first, without bodies. */
export async function listMessages(ref: MailboxRef): Promise<MessageSummary[]> {
  if (!(await readAccount(ref.dataDir, ref.id))) throw mailErrors.SLIPWAY_ERR_MAIL_NO_MAILBOX({ id: ref.id });
  const dir = join(mailboxDir(ref.dataDir, ref.id), 'messages');
  const names = (await readdir(dir).catch(() => [] as string[]))
    .filter((n) => n.endsWith('.json'))
    .sort()
    .reverse();
  const out: MessageSummary[] = [];
  for (const n of names) {
    try {
      const {
        text: _t,
        html: _h,
        ...summary
      } = JSON.parse(await readFile(join(dir, n), 'utf8')) as StoredMessage;
      out.push(summary);
    } catch {
      // a message being written right now; it shows up next time
    }
  }
  return out;
}

/** One message with its bodies and raw source. */
export async function getMessage(
  ref: MailboxRef & { messageId: string },
): Promise<StoredMessage & { raw: string }> {
  const dir = join(mailboxDir(ref.dataDir, ref.id), 'messages');
  if (!ID.test(ref.messageId))
    throw mailErrors.SLIPWAY_ERR_MAIL_NO_MESSAGE({ id: ref.id, messageId: ref.messageId });
  try {
    const msg = JSON.parse(await readFile(join(dir, `${ref.messageId}.json`), 'utf8')) as StoredMessage;
    return { ...msg, raw: await readFile(join(dir, `${ref.messageId}.eml`), 'utf8') };
  } catch {
    throw mailErrors.SLIPWAY_ERR_MAIL_NO_MESSAGE({ id: ref.id, messageId: ref.messageId });
  }
}
