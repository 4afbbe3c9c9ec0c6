/**
 * The Node router behind the HAProxy data plane, for the apps whose route plugins need code on
 * every request. HAProxy hands such a request over a Unix socket (in its 0700 directory, so no
 * dyno can connect and lie) with a PROXY protocol v1 line first: the client's address and the
 * port it reached become the socket's, so the Node router sees what it would see listening
 * itself (X-Forwarded-For, source rules, X-Forwarded-Port). One socket per client protocol.
 */
import { chmodSync, rmSync } from 'node:fs';
import type http from 'node:http';
import net from 'node:net';
import { VIA } from './forwarded-headers.js';

/** The longest PROXY v1 line (the spec's 107 bytes). */
const MAX_LINE = 107;
const V1 = /^PROXY (TCP4|TCP6) (\S+) (\S+) (\d+) (\d+)$/;

/** Hand `socket` to `server` as if it came from the PROXY line's peer. */
function adopt(server: http.Server, socket: net.Socket, line: string): boolean {
  const m = V1.exec(line);
  if (!m) return false;
  Object.defineProperty(socket, 'remoteAddress', { value: m[2], configurable: true });
  Object.defineProperty(socket, 'remotePort', { value: Number(m[4]), configurable: true });
  Object.defineProperty(socket, 'localAddress', { value: m[3], configurable: true });
  Object.defineProperty(socket, 'localPort', { value: Number(m[5]), configurable: true });
  server.emit('connection', socket);
  return true;
}

/** `value` without `suffix` at its end (and the `, ` before it); undefined when nothing is left. */
function strip(value: string, suffix: string): string | undefined {
  if (value === suffix) return undefined;
  return value.endsWith(`, ${suffix}`) ? value.slice(0, -(suffix.length + 2)) : value;
}

/**
 * Undo what HAProxy added to the request before handing it over (its `X-Forwarded-For` peer
 * and its `Via` hop), so the Node router adds them once, as if it had taken the request.
 */
function unwrap(req: http.IncomingMessage): void {
  const peer = req.socket.remoteAddress ?? '';
  // Node builds `headers` lazily from `rawHeaders`: build it before either is changed.
  const headers = req.headers;
  const fix = (name: string, suffix: string): void => {
    const raw = req.rawHeaders;
    for (let i = raw.length - 2; i >= 0; i -= 2) {
      if (raw[i]!.toLowerCase() !== name) continue;
      const v = strip(raw[i + 1]!, suffix);
      if (v === undefined) raw.splice(i, 2);
      else raw[i + 1] = v;
      break;
    }
    const h = headers[name];
    if (typeof h === 'string') {
      const v = strip(h, suffix);
      if (v === undefined) delete headers[name];
      else headers[name] = v;
    }
  };
  fix('x-forwarded-for', peer);
  fix('via', VIA);
}

/** Listen on Unix socket `path` (mode 0600) for PROXY v1 connections served by `server`. */
export function listenProxied(server: http.Server, path: string): Promise<net.Server> {
  rmSync(path, { force: true });
  server.prependListener('request', unwrap);
  server.prependListener('upgrade', unwrap);
  const front = net.createServer((socket) => {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n');
      if (end < 0) {
        if (head.length > MAX_LINE) socket.destroy();
        return;
      }
      socket.off('data', onData);
      socket.pause();
      const rest = head.subarray(end + 2);
      if (rest.length > 0) socket.unshift(rest);
      if (!adopt(server, socket, head.subarray(0, end).toString('latin1'))) socket.destroy();
      else socket.resume();
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
  });
  return new Promise((resolve, reject) => {
    front.once('error', reject);
    front.listen(path, () => {
      front.off('error', reject);
      chmodSync(path, 0o600);
      resolve(front);
    });
  });
}
