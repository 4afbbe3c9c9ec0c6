/**
 * The Node end of HAProxy's log ring: a loopback TCP server that reads the lines the ring
 * forwards (raw format, one per line), turns each request's line into the same
 * per-request line the Node router writes, and hands it to the platform's LogSink (only from
 * connections of the platform's own uid: HAProxy's). HAProxy cannot name Heroku's codes
 * itself: they come from its termination state (`%tsc`).
 */

import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import type { LogSink } from '@slipway/core';
import { H_CODES, type HCodeName } from '../h-codes.js';
import { formatRequestLine, type RequestRecord } from '../log-line.js';
import { LOG_FIELDS } from './haproxy-config.js';

/** HAProxy's `len` of a log line: a longer one cannot come from the ring. */
const MAX_LINE = 65_536;

/**
 * Heroku's code for a request HAProxy ended with termination state `tsc` (its first two
 * letters: who ended it and at which step), or undefined for a normal answer.
 */
export function codeFromTermination(
  tsc: string,
  status: number,
  server: string,
  e503 = 'H21',
): HCodeName | undefined {
  const who = tsc[0];
  const when = tsc[1];
  // A WebSocket's line stands for its handshake, as on the Node router: however the tunnel
  // ends later (the idle window on either side, a close), the upgrade itself succeeded.
  if (status === 101 && when === 'D') return undefined;
  if (who === 's' && (when === 'H' || when === 'Q')) return 'H12';
  if (who === 's' && when === 'D') return 'H15';
  if (who === 's' && when === 'C') return 'H19';
  if (who === 'S' && when === 'H') return 'H13';
  if (who === 'S' && when === 'D') return 'H18';
  // Refused: H21 when the app had dynos up as the request came in (all refused, or were
  // quarantined by the refusals), H10 when none was up (the slot backend said which).
  if (who === 'S' && when === 'C') return e503 === 'H10' ? 'H10' : 'H21';
  // The client went away: before the response (no status yet), or during it ('CD': the
  // response had started, its status stays, as on the Node router).
  if (who === 'C' && (when === 'D' || when === 'L' || status === 0 || status === -1)) return 'H27';
  if (who === 'c') return status === 0 || status === -1 ? 'H27' : undefined;
  if (who === 'P' && status === 400) return 'H25';
  if (who === 'R' || (who === 'P' && status >= 500)) return 'H99';
  if (status === 503 && server === '<NOSRV>') return 'H10';
  return undefined;
}

const FIELD = Object.fromEntries(LOG_FIELDS.map((k, i) => [k, i])) as Record<
  (typeof LOG_FIELDS)[number],
  number
>;

/** The request record of one log message of the generated `log-format`, or undefined when malformed. */
export function parseLogMessage(message: string): (RequestRecord & { slot: string }) | undefined {
  let parts: unknown;
  try {
    parts = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parts) || parts.length !== LOG_FIELDS.length) return undefined;
  // Read by position (this runs once per request): FIELD gives each name's index.
  const p = parts as unknown[];
  const at = (k: (typeof LOG_FIELDS)[number]): string => String(p[FIELD[k]]);
  const f = {
    code: at('code'),
    method: at('method'),
    path: at('path'),
    host: at('host'),
    requestId: at('requestId'),
    fwd: at('fwd'),
    server: at('server'),
    connect: at('connect'),
    response: at('response'),
    total: at('total'),
    status: at('status'),
    bytes: at('bytes'),
    tls: at('tls'),
    termination: at('termination'),
    slot: at('slot'),
    e503: at('e503'),
  };
  let status = Number(f.status);
  const response = Number(f.response);
  const given = (f.code in H_CODES ? f.code : '') as HCodeName | '';
  const code = given || codeFromTermination(f.termination, status, f.server, f.e503);
  // The dyno's status stays once its response had started; before it, Heroku's 499 (HAProxy
  // 2.6 logs no status there, 3.x its own 400).
  if (code === 'H27') status = status > 0 && response >= 0 ? status : H_CODES.H27.status;
  else if (code && code !== 'H25' && status >= 500) status = H_CODES[code].status;
  const connect = Math.max(0, Number(f.connect) || 0);
  const total = Math.max(0, Number(f.total) || 0);
  return {
    code,
    desc: code ? H_CODES[code].desc : undefined,
    method: f.method,
    path: f.path,
    host: f.host,
    requestId: f.requestId || '-',
    fwd: f.fwd === '-' ? '' : f.fwd,
    // Servers are named `<dyno>_<n>` so that two releases' `web.1` can live side by side.
    dyno: f.server.charCodeAt(0) === 60 /* < */ ? '' : f.server.slice(0, f.server.lastIndexOf('_')),
    connectMs: connect,
    serviceMs: response >= 0 ? Math.max(0, total - connect) : 0,
    status,
    bytes: Number(f.bytes) || 0,
    protocol: f.tls === 'https' ? 'https' : 'http',
    slot: f.slot,
  };
}

/**
 * The uid owning the loopback TCP socket at `peerPort` connected to our `localPort`, read from
 * /proc/net/tcp (columns: sl, local, remote, state, queues, timer, retransmits, uid), or
 * undefined when the connection is not listed.
 */
export async function loopbackPeerUid(peerPort: number, localPort: number): Promise<number | undefined> {
  const table = await readFile('/proc/net/tcp', 'utf8').catch(() => '');
  for (const row of table.split('\n').slice(1)) {
    const [, local, remote, , , , , uid] = row.trim().split(/\s+/);
    if (!local || !remote || uid === undefined) continue;
    if (
      Number.parseInt(local.split(':')[1] as string, 16) === peerPort &&
      Number.parseInt(remote.split(':')[1] as string, 16) === localPort
    )
      return Number(uid);
  }
  return undefined;
}

/** A running log sink. */
export interface HaproxyLogSink {
  readonly port: number;
  close(): Promise<void>;
}

/** Listen on a free loopback port; every request line goes to `log` (source `router`). */
export async function startLogSink(
  log: LogSink | undefined,
  appOfSlot: (slot: string) => string | undefined,
  onBadLine?: (m: string) => void,
): Promise<HaproxyLogSink> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    let buf = '';
    socket.setEncoding('latin1');
    // Only HAProxy, run by the platform as its own uid, may write here: dynos share the host's
    // loopback (sandboxed ones too), and a line they wrote would be a router line in any app's log.
    socket.pause();
    void loopbackPeerUid(socket.remotePort ?? -1, socket.localPort ?? -1).then((uid) => {
      if (uid !== undefined && uid === process.getuid?.()) socket.resume();
      else socket.destroy();
    });
    socket.on('data', (chunk: string) => {
      buf = buf.length ? buf + chunk : chunk;
      let start = 0;
      for (;;) {
        const end = buf.indexOf('\n', start);
        if (end < 0) {
          buf = buf.slice(start);
          // A line longer than any the log format can make: not ours, drop the connection.
          if (buf.length > MAX_LINE) socket.destroy();
          break;
        }
        const message = buf.slice(start, end);
        start = end + 1;
        const record = parseLogMessage(message);
        // Other lines (a server going up or down) are HAProxy's own news, not requests.
        if (!record) {
          onBadLine?.(message);
          continue;
        }
        // Like the Node router: a request for no app (404) writes no line.
        const app = appOfSlot(record.slot);
        if (app === undefined || log === undefined) continue;
        try {
          log.write({
            app,
            time: Date.now(),
            source: 'slipway',
            dyno: 'router',
            message: formatRequestLine(record),
          });
        } catch {
          // A failing log sink must not stop the lines that follow.
        }
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
