/**
 * Procfile parsing: `type: command` per line, Heroku's rules. `web` receives HTTP traffic and
 * `release` runs in the release phase; both are ordinary entries here.
 */
import { coreErrors } from './errors.js';

/** Process type names Heroku accepts. */
export const PROCESS_TYPE_PATTERN = /^[-\w]{1,128}$/;

/** Parse a Procfile's text into `{ type: command }`. Throws SLIPWAY_ERR_PROCFILE_INVALID. */
export function parseProcfile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^([^:\s]*)\s*:\s*(.*)$/.exec(line);
    const fail = (detail: string) => coreErrors.SLIPWAY_ERR_PROCFILE_INVALID({ line: i + 1, detail });
    if (!m) throw fail(`"${truncate(line)}" is not "type: command"`);
    const [, type, command] = m as unknown as [string, string, string];
    if (!PROCESS_TYPE_PATTERN.test(type))
      throw fail(`process type "${truncate(type)}" must be 1–128 letters, digits, - or _`);
    if (!command.trim()) throw fail(`process type "${type}" has no command`);
    if (type in out) throw fail(`process type "${type}" is defined twice`);
    out[type] = command.trim();
  });
  return out;
}

function truncate(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
