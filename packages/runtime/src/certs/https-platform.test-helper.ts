/**
 * Shared parts of the HTTPS end-to-end tests: a real platform (in this process) with one
 * deployed app that echoes the request it got, a real TLS client that reports the served
 * chain, and the CLI run against the platform.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { packDir } from '../demo.js';
import type { Platform } from '../platform.js';
import { CLI, fixtureCopy } from '../platform-harness.test-helper.js';

/** A web process that answers JSON with its request's URL and headers. */
const ECHO_SERVER = `const http = require('node:http');
http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ url: req.url, headers: req.headers }));
}).listen(Number(process.env.PORT));
`;

/** Call the platform API as the admin. */
export async function api(p: Platform, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(new URL(path, p.apiUrl), {
    method,
    headers: {
      authorization: `Bearer ${p.token}`,
      // An archive is a raw upload; JSON would be read as Heroku's `source_blob` shape.
      'content-type': body instanceof Buffer ? 'application/octet-stream' : 'application/json',
    },
    ...(body === undefined ? {} : { body: body instanceof Buffer ? body : JSON.stringify(body) }),
  });
  const json = await res.json();
  if (!res.ok)
    throw Object.assign(new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`), json);
  return json;
}

/** Create `app`, deploy the echo app to it and add its custom domains. */
export async function deployEcho(p: Platform, app: string, domains: string[]): Promise<void> {
  await api(p, 'POST', '/apps', { name: app });
  const file = await packDir(await fixtureCopy('hello', { 'server.js': ECHO_SERVER }));
  const b = await api(p, 'POST', `/apps/${app}/builds`, await readFile(file));
  for (;;) {
    const now = await api(p, 'GET', `/apps/${app}/builds/${b.id}`);
    if (now.status === 'failed') throw new Error(`deploy of ${app} failed: ${now.error}`);
    if (now.status === 'succeeded' && now.release) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const hostname of domains) await api(p, 'POST', `/apps/${app}/domains`, { hostname });
}

/** One answer over TLS and what the handshake showed. */
export interface TlsReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Subject CNs of the served chain, leaf first (as the client built it up to its trust anchor). */
  chain: string[];
  /** SHA-256 fingerprint of the served leaf. */
  fingerprint: string;
}

/** GET over a fresh TLS connection with SNI `host`, trusting only `ca`. */
export function tlsGet(port: number, host: string, ca: string | string[], path = '/'): Promise<TlsReply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, path, servername: host, headers: { host }, ca, agent: false },
      (res) => {
        const chain: string[] = [];
        let c = (res.socket as TLSSocket).getPeerCertificate(true);
        const fingerprint = c.fingerprint256;
        for (let i = 0; c && i < 5; i++) {
          chain.push(String(c.subject?.CN));
          if (c.issuerCertificate === c) break;
          c = c.issuerCertificate;
        }
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          body += d;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, chain, fingerprint }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Plain-HTTP GET through the router with a Host header. */
export function httpGet(
  port: number,
  host: string,
  path = '/',
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Run the CLI against the platform. */
export function cli(p: Platform, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, SLIPWAY_API_URL: p.apiUrl, SLIPWAY_TOKEN: p.token }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
