import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { Kernel, type LogLine } from '@slipway/core';
import { expect } from 'chai';
import { LogHub } from '../logs/log-hub.js';
import { parseOctetCounted } from './drain-format.js';
import { DrainService } from './drain-service.js';
import { checkDrainUrl, guardedLookup } from './drain-url.js';

const line = (message: string, over: Partial<LogLine> = {}): LogLine => ({
  app: 'shop',
  time: Date.UTC(2026, 10, 27, 20, 11, 22, 123),
  source: 'app',
  dyno: 'web.1',
  message,
  ...over,
});

async function until<T>(what: string, fn: () => T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** An HTTP drain written for the test: records each POST; answers `statuses` in turn, then 200. */
async function httpDrain(statuses: number[] = []) {
  const posts: { headers: IncomingHttpHeaders; body: Buffer }[] = [];
  const server: Server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = statuses.shift() ?? 200;
      if (status === 200) posts.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { posts, url: `http://user:pw@127.0.0.1:${port}/logs`, close: () => server.close() };
}

/** A syslog TCP server written for the test: collects octet-counted messages. */
async function syslogServer() {
  const messages: string[] = [];
  const server: TcpServer = createTcpServer((s) => {
    let buf: Buffer = Buffer.alloc(0);
    s.on('data', (c: Buffer) => {
      const parsed = parseOctetCounted(Buffer.concat([buf, c]));
      messages.push(...parsed.messages);
      buf = parsed.rest;
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { messages, url: `syslog://127.0.0.1:${port}`, close: () => server.close() };
}

describe('log drains', () => {
  let kernel: Kernel;
  let hub: LogHub;
  let drains: DrainService;
  beforeEach(() => {
    kernel = new Kernel();
    hub = new LogHub({ kernel });
    drains = new DrainService({
      kernel,
      log: hub,
      allowLoopback: true,
      retryMs: { initial: 20, max: 100 },
      overflowReportMs: 50,
    });
  });
  afterEach(() => drains.close());

  it('POSTs logplex-framed batches with the logplex headers to an HTTP drain', async () => {
    const srv = await httpDrain();
    try {
      drains.set([{ id: 'd1', app: 'shop', url: srv.url, token: 'd.tok-1' }]);
      hub.write(line('hello drain', { micros: 123456 }));
      hub.write(line('State changed from starting to up', { source: 'slipway', micros: 123457 }));
      hub.write(line('not mine', { app: 'blog' }));
      const frames = await until('two frames', () => {
        const all = srv.posts.flatMap((p) => parseOctetCounted(p.body).messages);
        return all.length >= 2 ? all : undefined;
      });
      const h = srv.posts[0]!.headers;
      expect(h['content-type']).to.equal('application/logplex-1');
      expect(h['logplex-drain-token']).to.equal('d.tok-1');
      expect(h['logplex-frame-id']).to.match(/^[0-9a-f-]{36}$/);
      expect(h.authorization).to.equal(`Basic ${Buffer.from('user:pw').toString('base64')}`);
      expect(srv.posts.reduce((n, p) => n + Number(p.headers['logplex-msg-count']), 0)).to.equal(2);
      expect(frames).to.deep.equal([
        '<190>1 2026-11-27T20:11:22.123456+00:00 d.tok-1 app web.1 - hello drain\n',
        '<190>1 2026-11-27T20:11:22.123457+00:00 d.tok-1 slipway web.1 - State changed from starting to up\n',
      ]);
      // The octet count covers the frame's bytes including its newline, nothing more.
      const body = srv.posts[0]!.body.toString();
      expect(body.startsWith(`${Buffer.byteLength(frames[0]!)} <190>1`)).to.equal(true);
    } finally {
      srv.close();
    }
  });

  it('sends RFC 5424 messages with RFC 6587 octet counting to a syslog TCP drain', async () => {
    const srv = await syslogServer();
    try {
      drains.set([{ id: 'd2', app: 'shop', url: srv.url, token: 'd.tok-2' }]);
      hub.write(line('héllo syslog', { micros: 1 }));
      hub.write(line('second', { dyno: 'run.1234', micros: 2 }));
      await until('two messages', () => srv.messages.length >= 2);
      expect(srv.messages).to.deep.equal([
        '<190>1 2026-11-27T20:11:22.000001+00:00 d.tok-2 app web.1 - - héllo syslog',
        '<190>1 2026-11-27T20:11:22.000002+00:00 d.tok-2 app run.1234 - - second',
      ]);
    } finally {
      srv.close();
    }
  });

  it('retries a failed batch with back-off and keeps the order', async () => {
    const srv = await httpDrain([500, 503]);
    try {
      drains.set([{ id: 'd3', app: 'shop', url: srv.url, token: 't' }]);
      for (let i = 1; i <= 5; i++) hub.write(line(`m${i}`));
      const msgs = await until('five lines', () => {
        const all = srv.posts.flatMap((p) => parseOctetCounted(p.body).messages);
        return all.length >= 5 ? all : undefined;
      });
      expect(msgs.map((m) => m.split(' - ')[1]?.trim())).to.deep.equal(['m1', 'm2', 'm3', 'm4', 'm5']);
      expect(drains.stats('d3')?.failures).to.equal(2);
    } finally {
      srv.close();
    }
  });

  it('drops the oldest lines past the buffer and logs L10', async () => {
    const small = new DrainService({
      kernel,
      log: hub,
      bufferSize: 10,
      retryMs: { initial: 60_000, max: 60_000 },
      overflowReportMs: 20,
    });
    try {
      // Nothing listens on port 9 of 127.0.0.1: every delivery fails and the buffer fills.
      small.set([{ id: 'dead', app: 'shop', url: 'http://127.0.0.1:9/', token: 't' }]);
      for (let i = 0; i < 30; i++) hub.write(line(`x${i}`));
      const l10 = await until('an L10 line', () =>
        hub.recent('shop').find((l) => l.message.startsWith('Error L10 (output buffer overflow)')),
      );
      expect(l10.dyno).to.equal('logplex');
      expect(l10.message).to.match(/: \d+ messages dropped since \d{4}-\d\d-\d\dT/);
      expect(small.stats('dead')?.dropped).to.be.greaterThan(0);
      expect(small.stats('dead')?.queued).to.be.at.most(10);
    } finally {
      small.close();
    }
  });

  it('stops delivering to a removed drain', async () => {
    const srv = await httpDrain();
    try {
      drains.set([{ id: 'd4', app: 'shop', url: srv.url, token: 't' }]);
      hub.write(line('one'));
      await until('one post', () => srv.posts.length >= 1);
      drains.set([]);
      hub.write(line('two'));
      await new Promise((r) => setTimeout(r, 200));
      expect(srv.posts.flatMap((p) => parseOctetCounted(p.body).messages)).to.have.length(1);
      expect(drains.stats('d4')).to.equal(undefined);
    } finally {
      srv.close();
    }
  });

  it('accepts http(s)/syslog(+tls) drains outside the platform and refuses the rest', () => {
    const self = { ports: [5000, 5001], hosts: ['127.0.0.1', 'localhost'], allowLoopback: true };
    expect(checkDrainUrl('https://logs.example.com/x', self).hostname).to.equal('logs.example.com');
    expect(checkDrainUrl('syslog+tls://logs.example.com:6514', self).port).to.equal('6514');
    expect(checkDrainUrl('http://127.0.0.1:9999/', self).port).to.equal('9999');
    expect(checkDrainUrl('syslog://10.1.2.3:514', self).port).to.equal('514');
    const refused = (u: string) => {
      try {
        checkDrainUrl(u, self);
      } catch (e) {
        return (e as { code: string; message: string }).code;
      }
      return 'accepted';
    };
    expect(refused('ftp://logs.example.com/')).to.equal('SLIPWAY_ERR_RUNTIME_DRAIN_URL');
    expect(refused('syslog://logs.example.com')).to.equal('SLIPWAY_ERR_RUNTIME_DRAIN_URL');
    expect(refused('http://127.0.0.1:5001/apps')).to.equal('SLIPWAY_ERR_RUNTIME_DRAIN_URL');
    expect(refused('http://shop.localhost:5000/')).to.equal('SLIPWAY_ERR_RUNTIME_DRAIN_URL');
    expect(refused('http://[::1]:5000/')).to.equal('SLIPWAY_ERR_RUNTIME_DRAIN_URL');
    expect(refused('not a url')).to.equal('SLIPWAY_ERR_RUNTIME_DRAIN_URL');
  });

  // Issue 11: drains to the metadata service and to any loopback port were accepted.
  it('refuses link-local and metadata drains always, and loopback unless the platform allows it', () => {
    const strict = { ports: [5000, 5001], hosts: ['127.0.0.1', 'localhost'] };
    const why = (u: string, self = strict) => {
      try {
        checkDrainUrl(u, self);
      } catch (e) {
        return (e as Error).message;
      }
      return 'accepted';
    };
    expect(why('http://169.254.169.254/latest/meta-data/')).to.match(/link-local .*metadata/);
    expect(why('http://169.254.169.254/', { ...strict, allowLoopback: true } as typeof strict)).to.match(
      /link-local/,
    );
    expect(why('http://metadata.google.internal/')).to.match(/cloud metadata service/);
    expect(why('syslog://[fe80::1]:514')).to.match(/link-local/);
    expect(why('http://0.0.0.0:8080/')).to.match(/not an address a drain can have|platform/);
    expect(why('http://127.0.0.1:6379/')).to.match(/loopback.*allowLoopbackDrains/);
    expect(why('syslog://localhost:5432')).to.match(/loopback/);
    expect(why('http://[::1]:9999/')).to.match(/loopback/);
    expect(why('https://logs.example.com/')).to.equal('accepted');
    // The same addresses written as IPv4-mapped IPv6 (a socket to them reaches the IPv4 one).
    expect(why('http://[::ffff:169.254.169.254]/latest/meta-data/')).to.match(/link-local .*metadata/);
    expect(why('http://[0:0:0:0:0:ffff:a9fe:a9fe]/')).to.match(/link-local .*metadata/);
    expect(why('http://[::ffff:127.0.0.1]:6379/')).to.match(/loopback/);
    expect(why('http://[::ffff:0.0.0.0]:8080/')).to.match(/not an address a drain can have|platform/);
    expect(
      why('http://[::ffff:127.0.0.1]:5000/', { ...strict, allowLoopback: true } as typeof strict),
    ).to.match(/platform's own/);
  });

  it('refuses at connect time a drain name that resolves to a forbidden address', async () => {
    const lookupFails = (allow: boolean) =>
      new Promise<string>((resolve) =>
        guardedLookup(allow)('localhost', { family: 4 }, (err: Error | null, address: unknown) =>
          resolve(err ? err.message : String(address)),
        ),
      );
    expect(await lookupFails(false)).to.match(/drain host localhost is this machine's loopback/);
    expect(await lookupFails(true)).to.equal('127.0.0.1');
  });
});

describe('log drains over TLS (https, syslog+tls)', () => {
  let cert: { key: Buffer; cert: Buffer } | undefined;
  before(function () {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-drain-tls-'));
    try {
      // A throwaway self-signed certificate for 127.0.0.1, trusted through the service's `ca`.
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
          '-addext',
          'subjectAltName=IP:127.0.0.1,DNS:localhost',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      cert = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
    } catch (e) {
      if (process.env.CI === 'true') throw new Error(`openssl is needed to make a test certificate: ${e}`);
      console.warn('SKIPPED: openssl is not installed; cannot make a certificate for the TLS drain tests');
      this.skip();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('delivers logplex batches to an https drain and frames to a syslog+tls drain', async () => {
    const c = cert as { key: Buffer; cert: Buffer };
    const frames: string[] = [];
    const https = createHttpsServer(c, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        frames.push(...parseOctetCounted(Buffer.concat(chunks)).messages);
        res.end();
      });
    });
    const syslog: string[] = [];
    const tls = createTlsServer(c, (s) => {
      let buf: Buffer = Buffer.alloc(0);
      s.on('data', (d: Buffer) => {
        const parsed = parseOctetCounted(Buffer.concat([buf, d]));
        syslog.push(...parsed.messages);
        buf = parsed.rest;
      });
    });
    await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    const kernel = new Kernel();
    const hub = new LogHub({ kernel });
    const drains = new DrainService({
      kernel,
      log: hub,
      allowLoopback: true,
      ca: c.cert,
      retryMs: { initial: 20, max: 100 },
    });
    try {
      drains.set([
        {
          id: 'h',
          app: 'shop',
          url: `https://127.0.0.1:${(https.address() as AddressInfo).port}/`,
          token: 'd.h',
        },
        {
          id: 's',
          app: 'shop',
          url: `syslog+tls://127.0.0.1:${(tls.address() as AddressInfo).port}`,
          token: 'd.s',
        },
      ]);
      hub.write(line('over tls', { micros: 5 }));
      await until('both drains', () => frames.length >= 1 && syslog.length >= 1);
      expect(frames).to.deep.equal(['<190>1 2026-11-27T20:11:22.000005+00:00 d.h app web.1 - over tls\n']);
      expect(syslog).to.deep.equal(['<190>1 2026-11-27T20:11:22.000005+00:00 d.s app web.1 - - over tls']);
    } finally {
      drains.close();
      https.close();
      tls.close();
    }
  });

  it('refuses to deliver to a drain whose certificate is not trusted, and retries', async () => {
    const c = cert as { key: Buffer; cert: Buffer };
    let posts = 0;
    const https = createHttpsServer(c, (_req, res) => {
      posts++;
      res.end();
    });
    await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
    const kernel = new Kernel();
    const hub = new LogHub({ kernel });
    const drains = new DrainService({
      kernel,
      log: hub,
      allowLoopback: true,
      retryMs: { initial: 20, max: 50 },
    });
    try {
      drains.set([
        {
          id: 'h',
          app: 'shop',
          url: `https://127.0.0.1:${(https.address() as AddressInfo).port}/`,
          token: 't',
        },
      ]);
      hub.write(line('secret'));
      await until('two failed attempts', () => ((drains.stats('h')?.failures ?? 0) >= 2 ? true : undefined));
      expect(posts).to.equal(0);
      expect(drains.stats('h')?.lastError).to.match(/self[- ]signed|certificate/i);
    } finally {
      drains.close();
      https.close();
    }
  });
});
