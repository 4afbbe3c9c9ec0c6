/**
 * Redaction of provider secrets from logs: every secret the SDK generated and every value a
 * provider returned as config is replaced by `[REDACTED]` before a line leaves the provider.
 * URL values are also redacted by their password, so a log of `host:port` stays readable
 * while `user:pw@host` does not leak `pw`.
 */
import { randomBytes } from 'node:crypto';

/** Shortest value that is redacted; shorter ones (ports, `1`) would make logs unreadable. */
const MIN_SECRET = 4;

/** Collects secrets and removes them from text. */
export class Redactor {
  private readonly secrets = new Set<string>();
  private ordered: string[] | undefined;

  /** Remember a secret (and its URL-encoded form). */
  add(value: string): void {
    if (typeof value !== 'string' || value.length < MIN_SECRET) return;
    this.secrets.add(value);
    const enc = encodeURIComponent(value);
    if (enc !== value) this.secrets.add(enc);
    this.ordered = undefined;
  }

  /** Remember every value of a config, and the userinfo password of URL values. */
  addConfig(config: Record<string, string>): void {
    for (const v of Object.values(config)) {
      this.add(v);
      try {
        const u = new URL(v);
        if (u.password) {
          this.add(u.password);
          this.add(decodeURIComponent(u.password));
        }
      } catch {
        // not a URL: the whole value is already remembered
      }
    }
  }

  /** `text` with every known secret replaced by `[REDACTED]`. */
  redact(text: string): string {
    if (!this.secrets.size) return text;
    // Longest first, so a URL containing a password is replaced whole rather than in pieces.
    this.ordered ??= [...this.secrets].sort((a, b) => b.length - a.length);
    let out = text;
    for (const s of this.ordered) if (out.includes(s)) out = out.split(s).join('[REDACTED]');
    return out;
  }
}

/** A crypto-random, URL-safe secret of `bytes` random bytes (base64url, no padding). */
export function generateSecret(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

/** Log levels of a provider log. */
export type LogLevel = 'info' | 'warn' | 'error';

/** Where provider log lines go once redacted. */
export type LogWriter = (level: LogLevel, message: string) => void;

/** A provider's log: every line is redacted before it reaches the writer. */
export interface ProviderLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Default writer: stderr, one line per message, prefixed with the add-on id. */
export function stderrWriter(id: string): LogWriter {
  return (level, message) => {
    for (const line of message.split('\n')) process.stderr.write(`[addon ${id}] ${level}: ${line}\n`);
  };
}

/** A log that redacts through `redactor` before writing. */
export function createRedactingLog(redactor: Redactor, write: LogWriter): ProviderLog {
  const emit = (level: LogLevel) => (message: string) => write(level, redactor.redact(String(message)));
  return { info: emit('info'), warn: emit('warn'), error: emit('error') };
}
