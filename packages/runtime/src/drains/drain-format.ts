/**
 * Wire formats of log drains. HTTP(S) drains get logplex batches: `application/logplex-1`
 * bodies of octet-counted frames, each `LEN SP <syslog line>\n` where LEN counts the line and
 * its newline, in logplex's own syslog dialect (`<PRI>1 TS HOST APP PROCID - MSG`, no
 * structured-data field). Syslog drains get strict RFC 5424 messages (`- -` for MSGID and
 * STRUCTURED-DATA) framed with RFC 6587 octet counting (`LEN SP MSG`, no trailer).
 */
import type { LogLine } from '@slipway/core';
import { formatLogTime } from '../logs/log-hub.js';

/** local7.info, the priority logplex gives application lines. */
export const DRAIN_PRI = 190;

/** RFC 5424 header fields: printable US-ASCII without spaces, at most `max` characters. */
function field(s: string, max: number): string {
  const clean = s.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return clean || '-';
}

/** PRI, version, timestamp, host (the drain token), app (the source) and proc id (the dyno). */
function header(line: LogLine, token: string): string {
  return `<${DRAIN_PRI}>1 ${formatLogTime(line)} ${field(token, 255)} ${field(line.source, 48)} ${field(line.dyno, 128)} -`;
}

/** One line in logplex's syslog dialect, as HTTPS drains receive it. */
export function logplexLine(line: LogLine, token: string): string {
  return `${header(line, token)} ${line.message}`;
}

/** One strict RFC 5424 message (with its empty structured data), as syslog drains receive it. */
export function rfc5424Line(line: LogLine, token: string): string {
  return `${header(line, token)} - ${line.message}`;
}

/** Octet-counted frames (`<length> <message>`), one per line. */
function octetFrames(lines: readonly LogLine[], render: (l: LogLine) => string): Buffer {
  const parts: Buffer[] = [];
  for (const l of lines) {
    const msg = Buffer.from(render(l));
    parts.push(Buffer.from(`${msg.length} `), msg);
  }
  return Buffer.concat(parts);
}

/** A logplex HTTP body: one octet-counted frame per line, the count including the trailing LF. */
export function logplexBody(lines: readonly LogLine[], token: string): Buffer {
  return octetFrames(lines, (l) => `${logplexLine(l, token)}\n`);
}

/** RFC 6587 octet-counted frames of RFC 5424 messages, for a syslog TCP stream. */
export function syslogFrames(lines: readonly LogLine[], token: string): Buffer {
  return octetFrames(lines, (l) => rfc5424Line(l, token));
}

/** Split an octet-counted stream into its messages (for tests and tools); returns the rest. */
export function parseOctetCounted(buf: Buffer): { messages: string[]; rest: Buffer } {
  const messages: string[] = [];
  let at = 0;
  for (;;) {
    const sp = buf.indexOf(0x20, at);
    if (sp < 0) break;
    const len = Number(buf.toString('ascii', at, sp));
    if (!Number.isInteger(len) || len <= 0) throw new Error(`bad octet count at byte ${at}`);
    if (sp + 1 + len > buf.length) break;
    messages.push(buf.toString('utf8', sp + 1, sp + 1 + len));
    at = sp + 1 + len;
  }
  return { messages, rest: buf.subarray(at) };
}
