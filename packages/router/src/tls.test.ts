// Over 400 lines: the cases share one router, its certificates and dyno, set up once.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { expect } from 'chai';
import type { HaproxyRouter } from './haproxy/haproxy-router.js';
import { createRouter, type Router } from './router.js';
import {
  type Backend,
  createTestRouter,
  curlInstalled,
  describePlanes,
  selfSigned,
  settle,
  startBackend,
  TestTable,
  until,
} from './test-harness.test.js';
import { CertificateStore } from './tls-certificates.js';

const run = promisify(execFile);

describePlanes('router: HTTPS listener with SNI (real TLS)', (plane) => {
  let dir: string;
  let dyno: Backend;
  let router: Router;
  let port: number;
  const lines: string[] = [];
  let ca: Buffer[];

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'slipway-router-tls-'));
    let platform: { cert: string; key: string };
    let custom: { cert: string; key: string };
    try {
      platform = await selfSigned(dir, 'platform', ['*.example.test']);
      custom = await selfSigned(dir, 'custom', ['www.custom.test']);
    } catch (e) {
      if (process.env.CI === 'true')
        throw new Error(`the TLS tests need openssl (apt-get install openssl): ${e}`);
      console.warn(`\n  !!! SKIPPED: TLS tests need the openssl command: ${(e as Error).message}\n`);
      this.skip();
    }
    ca = [readFileSync(platform.cert), readFileSync(custom.cert)];
    dyno = await startBackend();
    const table = new TestTable().set('app', [dyno.target('web.1')]).set('other', [dyno.target('web.1')]);
    table.domains.set('www.custom.test', 'other');
    router = createTestRouter(plane, {
      table,
      baseDomain: 'example.test',
      log: { write: (l) => lines.push(l.message) },
      tls: {
        certificates: [
          { ...platform, domains: ['*.example.test'] },
          { ...custom, domains: ['www.custom.test'] },
        ],
      },
    });
    port = (await router.listenTls(0)).port;
  });
  after(async () => {
    await router?.close();
    await dyno?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The CN of the certificate served for `servername`, once the router applied the store. */
  const certificateFor = async (port: number, servername: string): Promise<string> => {
    await settle();
    return new Promise<string>((resolve, reject) => {
      // The name check is off: the test looks at which certificate came, not whether it fits.
      const s = tls.connect(
        { host: '127.0.0.1', port, servername, ca, checkServerIdentity: () => undefined },
        () => {
          resolve(String(s.getPeerCertificate().subject.CN));
          s.end();
        },
      );
      s.on('error', reject);
    });
  };

  const get = async (host: string): Promise<{ status: number; cn: string; body: string }> => {
    await settle();
    return new Promise((resolve, reject) => {
      const req = https.request(
        { host: '127.0.0.1', port, servername: host, headers: { host }, ca, agent: false },
        (res) => {
          const cn = String((res.socket as import('node:tls').TLSSocket).getPeerCertificate().subject.CN);
          let body = '';
          res.on('data', (c) => {
            body += c;
          });
          res.on('end', () => resolve({ status: res.statusCode!, cn, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  };

  it('serves <app>.<base> with the wildcard certificate and tells the dyno it was HTTPS', async () => {
    const reply = await get('app.example.test');
    expect(reply).to.include({ status: 200, cn: 'platform' });
    const h = dyno.seen.at(-1)!.headers;
    expect(h['x-forwarded-proto']).to.equal('https');
    expect(h['x-forwarded-port']).to.equal(String(port));
    await until(() => lines.some((l) => / protocol=https$/.test(l)), 'the https log line');
  });

  it('serves HTTP/2 clients (ALPN h2) with the same headers and log line', async () => {
    await settle();
    const client = http2.connect(`https://127.0.0.1:${port}`, { servername: 'app.example.test', ca });
    try {
      const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = client.request({ ':path': '/h2?x=1', ':authority': 'app.example.test' });
        let status = 0;
        let body = '';
        req.on('response', (h) => {
          status = Number(h[':status']);
        });
        req.on('data', (c) => {
          body += c;
        });
        req.on('end', () => resolve({ status, body }));
        req.on('error', reject);
        req.end();
      });
      expect(reply.status).to.equal(200);
      expect(JSON.parse(reply.body).headers['x-forwarded-proto']).to.equal('https');
      await until(() => lines.some((l) => /path="\/h2\?x=1".* protocol=https$/.test(l)), 'the h2 log line');
    } finally {
      client.close();
    }
    // And curl, as a user would check it (CI installs curl; elsewhere the check is skipped, loudly).
    if (!(await curlInstalled('the curl --http2 check'))) return;
    const { stdout } = await run('curl', [
      '--http2',
      '--silent',
      '--cacert',
      join(dir, 'platform.crt'),
      '--resolve',
      `app.example.test:${port}:127.0.0.1`,
      '--write-out',
      '\n%{http_version} %{http_code}',
      `https://app.example.test:${port}/curl`,
    ]);
    expect(stdout.trim().split('\n').at(-1)).to.equal('2 200');
  });

  it('H27 when an HTTP/2 client cancels its stream before the response (no half-close in HTTP/2)', async () => {
    const silent = await startBackend(() => {});
    const table = new TestTable().set('app', [silent.target('web.1')]);
    const seen: string[] = [];
    const h2 = createTestRouter(plane, {
      table,
      baseDomain: 'example.test',
      log: { write: (l) => seen.push(l.message) },
      tls: { certificates: [{ cert: join(dir, 'platform.crt'), key: join(dir, 'platform.key') }] },
    });
    const h2Port = (await h2.listenTls(0)).port;
    await settle();
    const client = http2.connect(`https://127.0.0.1:${h2Port}`, { servername: 'app.example.test', ca });
    try {
      const req = client.request({ ':path': '/cancelled', ':authority': 'app.example.test' });
      req.on('error', () => {});
      req.end();
      await until(() => silent.seen.length === 1, 'the request at the dyno');
      req.close(http2.constants.NGHTTP2_CANCEL);
      await until(() => seen.some((l) => l.includes('path="/cancelled"')), 'the log line');
      expect(seen.find((l) => l.includes('path="/cancelled"'))).to.match(
        /^at=error code=H27 desc="Client Request Interrupted" .*dyno=web\.1 .*status=499 /,
      );
    } finally {
      client.close();
      await h2.close();
      await silent.close();
    }
  });

  it('picks the custom domain certificate by SNI', async () => {
    const reply = await get('www.custom.test');
    expect(reply).to.include({ status: 200, cn: 'custom' });
  });

  it('refuses to start with an unreadable certificate file, naming it', () => {
    expect(() =>
      createRouter({
        table: new TestTable(),
        baseDomain: 'example.test',
        tls: { certificates: [{ cert: join(dir, 'missing.crt'), key: join(dir, 'missing.key') }] },
      }),
    )
      .to.throw(/missing\.crt/)
      .with.property('code', 'SLIPWAY_ERR_ROUTER_TLS_FILE');
  });

  it('a live store: an unknown name gets a TLS alert, never another certificate; a swap applies to new handshakes', async () => {
    const store = new CertificateStore();
    const pem = (f: string) => readFileSync(join(dir, f));
    store.replace([{ cert: pem('custom.crt'), key: pem('custom.key'), domains: ['www.custom.test'] }]);
    const table = new TestTable().set('other', [dyno.target('web.1')]);
    table.domains.set('www.custom.test', 'other');
    const live = createTestRouter(plane, { table, baseDomain: 'example.test', tls: { store } });
    const livePort = (await live.listenTls(0)).port;
    const hello = (servername: string) => certificateFor(livePort, servername);
    await settle();
    try {
      expect(await hello('www.custom.test')).to.equal('custom');
      const err = await hello('unknown.test').then(
        () => undefined,
        (e: NodeJS.ErrnoException) => e,
      );
      expect(err?.code).to.match(/^ERR_SSL_.*(HANDSHAKE_FAILURE|ALERT|UNRECOGNIZED_NAME)/);
      store.replace([{ cert: pem('platform.crt'), key: pem('platform.key'), domains: ['www.custom.test'] }]);
      await settle();
      expect(await hello('www.custom.test')).to.equal('platform');
      expect(() =>
        store.replace([{ cert: pem('custom.crt'), key: pem('platform.key'), domains: ['x.test'] }]),
      )
        .to.throw(/x\.test/)
        .with.property('code', 'SLIPWAY_ERR_ROUTER_TLS_PAIR');
      expect(await hello('www.custom.test')).to.equal('platform');
    } finally {
      await live.close();
    }
  });

  it('swaps a certificate under continuous HTTPS load: no request fails, new handshakes get the new one', async () => {
    const pem = (f: string) => readFileSync(join(dir, f));
    const store = new CertificateStore();
    store.replace([{ cert: pem('custom.crt'), key: pem('custom.key'), domains: ['www.custom.test'] }]);
    const table = new TestTable().set('other', [dyno.target('web.1')]);
    table.domains.set('www.custom.test', 'other');
    const live = createTestRouter(plane, { table, baseDomain: 'example.test', tls: { store } });
    const livePort = (await live.listenTls(0)).port;
    const pidFile = 'dir' in live ? join((live as HaproxyRouter).dir, 'haproxy.pid') : undefined;
    const pid = pidFile && readFileSync(pidFile, 'utf8');
    await settle();
    // Each request is a new connection, so a new handshake: it sees the certificate of its moment.
    const once = () =>
      new Promise<string>((resolve, reject) => {
        const req = https.request(
          {
            host: '127.0.0.1',
            port: livePort,
            servername: 'www.custom.test',
            headers: { host: 'www.custom.test' },
            ca,
            agent: false,
            checkServerIdentity: () => undefined,
          },
          (res) => {
            const cn = String((res.socket as tls.TLSSocket).getPeerCertificate().subject.CN);
            res.resume();
            res.on('end', () =>
              res.statusCode === 200 ? resolve(cn) : reject(new Error(`status ${res.statusCode}`)),
            );
          },
        );
        req.on('error', reject);
        req.end();
      });
    const served: string[] = [];
    const failures: unknown[] = [];
    let pidAfter: string | undefined;
    let stop = false;
    const client = async () => {
      while (!stop)
        await once().then(
          (cn) => served.push(cn),
          (e) => failures.push(e),
        );
    };
    const clients = Array.from({ length: 4 }, client);
    try {
      await until(() => served.length >= 20, 'requests before the swap', 10_000);
      store.replace([{ cert: pem('platform.crt'), key: pem('platform.key'), domains: ['www.custom.test'] }]);
      await settle();
      const swappedAt = served.length;
      await until(
        () => served.slice(swappedAt).filter((cn) => cn === 'platform').length >= 20,
        'requests served the new certificate',
        10_000,
      );
      pidAfter = pidFile && readFileSync(pidFile, 'utf8');
    } finally {
      stop = true;
      await Promise.all(clients);
      await live.close();
    }
    expect(failures.map(String)).to.deep.equal([]);
    expect(served[0]).to.equal('custom');
    expect(served.at(-1)).to.equal('platform');
    // Live, not a reload: the same haproxy served before and after.
    if (pidFile) expect(pidAfter).to.equal(pid);
  });

  it('replaces the default certificate live, and serves a domain added later', async () => {
    const pem = (f: string) => readFileSync(join(dir, f));
    const store = new CertificateStore();
    store.replace([], { cert: pem('platform.crt'), key: pem('platform.key'), domains: [] });
    const table = new TestTable().set('other', [dyno.target('web.1')]);
    const live = createTestRouter(plane, { table, baseDomain: 'example.test', tls: { store } });
    const livePort = (await live.listenTls(0)).port;
    const hello = (servername: string) => certificateFor(livePort, servername);
    try {
      expect(await hello('anything.test')).to.equal('platform');
      store.replace([], { cert: pem('custom.crt'), key: pem('custom.key'), domains: [] });
      expect(await hello('anything.test')).to.equal('custom');
      store.replace(
        [{ cert: pem('platform.crt'), key: pem('platform.key'), domains: ['new.example.test'] }],
        {
          cert: pem('custom.crt'),
          key: pem('custom.key'),
          domains: [],
        },
      );
      expect(await hello('new.example.test')).to.equal('platform');
      expect(await hello('anything.test')).to.equal('custom');
    } finally {
      await live.close();
    }
  });

  it("a tenant's pair HAProxy refuses (1024-bit RSA, which Node takes) is left out, told once; the others and the routes stay live", async () => {
    const pem = (f: string) => readFileSync(join(dir, f));
    const weak = { cert: join(dir, 'weak.crt'), key: join(dir, 'weak.key') };
    await run(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:1024', '-nodes', '-keyout', weak.key, '-out', weak.cert].concat([
        '-days',
        '2',
        '-subj',
        '/CN=weak',
        '-addext',
        'subjectAltName=DNS:weak.test',
      ]),
    );
    const store = new CertificateStore();
    const custom = { cert: pem('custom.crt'), key: pem('custom.key'), domains: ['www.custom.test'] };
    store.replace([custom]);
    const table = new TestTable().set('other', [dyno.target('web.1')]);
    table.domains.set('www.custom.test', 'other');
    const errors: string[] = [];
    const live = createTestRouter(plane, {
      table,
      baseDomain: 'example.test',
      tls: { store },
      onError: (e) => errors.push(String(e)),
    });
    const livePort = (await live.listenTls(0)).port;
    const get = async (host: string): Promise<number> => {
      await settle();
      return new Promise((resolve, reject) => {
        const req = https.request(
          // The name check is off: the served pair covers only www.custom.test.
          {
            host: '127.0.0.1',
            port: livePort,
            servername: host,
            headers: { host },
            ca,
            agent: false,
            checkServerIdentity: () => undefined,
          },
          (res) => {
            res.resume();
            resolve(res.statusCode!);
          },
        );
        req.on('error', reject);
        req.end();
      });
    };
    try {
      expect(await get('www.custom.test')).to.equal(200);
      store.replace([custom, { cert: pem('weak.crt'), key: pem('weak.key'), domains: ['weak.test'] }]);
      expect(await get('www.custom.test')).to.equal(200);
      // A route added after it still reaches the data plane (the certificate did not hold the sync back).
      table.set('late', [dyno.target('web.1')]);
      table.domains.set('late.custom.test', 'late');
      store.replace([
        { ...custom, domains: ['www.custom.test', 'late.custom.test'] },
        { cert: pem('weak.crt'), key: pem('weak.key'), domains: ['weak.test'] },
      ]);
      expect(await get('late.custom.test')).to.equal(200);
      if (plane === 'haproxy')
        expect(errors.filter((e) => e.includes('weak.test') && e.includes('1024-bit'))).to.have.length(1);
    } finally {
      await live.close();
    }
  });
});
