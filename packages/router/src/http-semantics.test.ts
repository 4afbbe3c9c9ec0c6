import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import {
  type Backend,
  curlInstalled,
  describePlanes,
  itOn,
  rawRequest,
  request,
  settle,
  sleep,
  startBackend,
  startRouter,
  type TestRouter,
  TestTable,
} from './test-harness.test.js';

const HOST = 'app.example.test';
const run = promisify(execFile);

describePlanes('router: HTTP semantics through the proxy (real HTTP)', (plane) => {
  let dyno: Backend;
  let r: TestRouter;
  before(async () => {
    dyno = await startBackend((req, res) => {
      if (req.url === '/204') {
        res.writeHead(204).end();
        return;
      }
      if (req.url === '/304') {
        res.writeHead(304, { etag: '"x"' }).end();
        return;
      }
      if (req.url === '/hints') {
        res.writeEarlyHints({ link: '</a.css>; rel=preload; as=style' });
        res.end('final');
        return;
      }
      if (req.url === '/cookies') {
        res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/']);
        res.end('ok');
        return;
      }
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => res.end(`${req.method} ${req.url} http/${req.httpVersion} ${body}`));
    });
    r = await startRouter(new TestTable().set('app', [dyno.target('web.1')]), {}, plane);
  });
  after(async () => {
    await r.router.close();
    await dyno.close();
  });

  it('answers Expect: 100-continue and forwards the body', async () => {
    const reply = await rawRequest(
      r.port,
      `POST /upload HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\nhello`,
      1000,
    );
    expect(reply.text).to.match(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/);
    expect(reply.text).to.contain('POST /upload http/1.1 hello');
    expect(dyno.seen.at(-1)!.headers).to.not.have.property('expect');
  });

  it('answers the 100 Continue curl waits for before a large upload, which reaches the dyno whole', async function () {
    if (!(await curlInstalled('the upload check'))) return this.skip();
    const file = join(mkdtempSync(join(tmpdir(), 'slipway-upload-')), 'body');
    writeFileSync(file, Buffer.alloc(3 * 1024 * 1024, 'a'));
    try {
      await settle();
      // curl sends `Expect: 100-continue` for a body over 1 MiB and waits for the 100 (or 1 s).
      const { stdout, stderr } = await run('curl', [
        '-sv',
        '-o',
        '/dev/null',
        '--write-out',
        '%{http_code} %{size_download}',
        '--data-binary',
        `@${file}`,
        '-H',
        `Host: ${HOST}`,
        `http://127.0.0.1:${r.port}/upload`,
      ]);
      expect(stderr).to.match(/> Expect: 100-continue/i);
      expect(stderr).to.match(/< HTTP\/1\.1 100 Continue/);
      // The dyno echoes what it received: `POST /upload http/1.1 ` and the 3 MiB.
      expect(stdout).to.equal(`200 ${'POST /upload http/1.1 '.length + 3 * 1024 * 1024}`);
      expect(dyno.seen.at(-1)!.headers).to.not.have.property('expect');
    } finally {
      rmSync(dirname(file), { recursive: true, force: true });
    }
  });

  it('answers 417 to an expectation other than 100-continue, without forwarding it', async () => {
    const before = dyno.seen.length;
    const reply = await rawRequest(
      r.port,
      `POST /x HTTP/1.1\r\nHost: ${HOST}\r\nExpect: something-else\r\nContent-Length: 2\r\n\r\nhi`,
      500,
    );
    expect(reply.text).to.match(/^HTTP\/1\.1 417 /);
    expect(dyno.seen.length).to.equal(before);
  });

  it('passes HEAD, 204 and 304 without a body, and keeps every Set-Cookie', async () => {
    const head = await request(r.port, { host: HOST, method: 'HEAD', path: '/x' });
    expect(head.status).to.equal(200);
    expect(head.body).to.equal('');
    expect((await request(r.port, { host: HOST, path: '/204' })).status).to.equal(204);
    const notModified = await request(r.port, { host: HOST, path: '/304' });
    expect(notModified.status).to.equal(304);
    expect(notModified.headers.etag).to.equal('"x"');
    const cookies = await request(r.port, { host: HOST, path: '/cookies' });
    expect(cookies.headers['set-cookie']).to.deep.equal(['a=1; Path=/', 'b=2; Path=/']);
  });

  itOn(
    plane,
    ['node'],
    'HAProxy (2.6 to 3.4) forwards a 1xx interim answer before any http-response rule or filter runs ' +
      '(RFC 9110 allows relaying it)',
  )('skips a 103 Early Hints of the dyno and relays its final response', async () => {
    const reply = await rawRequest(
      r.port,
      `GET /hints HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`,
      1000,
    );
    expect(reply.text).to.match(/^HTTP\/1\.1 200 OK\r\n/);
    expect(reply.text).to.not.contain('103');
    expect(reply.text).to.match(/\r\n\r\nfinal$/);
  });

  it('forwards OPTIONS * (which undici does not send) with the forwarded headers', async () => {
    const reply = await rawRequest(
      r.port,
      `OPTIONS * HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`,
      1000,
    );
    expect(reply.text).to.match(/^HTTP\/1\.1 200 OK\r\n/);
    expect(reply.text).to.match(/Via: 1\.1 slipway\r\n/i);
    expect(reply.text).to.contain('OPTIONS * http/1.1');
    expect(dyno.seen.at(-1)!.headers['x-forwarded-proto']).to.equal('http');
    expect(dyno.seen.at(-1)!.headers.host).to.equal(HOST);
  });

  // On HAProxy, through the Node router behind it (HAProxy 2.6 forwards the client's version).
  it('serves HTTP/1.0 clients and closes after the response', async () => {
    const reply = await rawRequest(r.port, `GET /old HTTP/1.0\r\nHost: ${HOST}\r\n\r\n`, 1000);
    expect(reply.text).to.match(/^HTTP\/1\.1 200 OK/);
    expect(reply.text).to.contain('GET /old http/1.1');
    expect(reply.closedByServer).to.equal(true);
    // The platform's headers once, as for any request; one log line.
    expect(reply.text.match(/\r\nvia: [^\r]*/gi)).to.have.length(1);
    expect(reply.text).to.match(/\r\nvia: 1\.1 slipway\r\n/i);
    const seen = dyno.seen.at(-1)!.headers;
    expect(seen['x-forwarded-for']).to.equal('127.0.0.1');
    expect(seen.via).to.equal('1.1 slipway');
    expect(seen['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
    await r.line(/path="\/old"/);
    await sleep(300);
    expect(r.lines.filter((l) => /path="\/old"/.test(l.message))).to.have.length(1);
  });

  it('keeps a client connection alive across requests to the same app', async () => {
    const raw = `GET /a HTTP/1.1\r\nHost: ${HOST}\r\n\r\nGET /b HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`;
    const reply = await rawRequest(r.port, raw, 1000);
    expect(reply.text).to.contain('GET /a http/1.1');
    expect(reply.text).to.contain('GET /b http/1.1');
  });
});
