import { expect } from 'chai';
import {
  type Backend,
  describePlanes,
  itOn,
  rawRequest,
  request,
  startBackend,
  startRouter,
  type TestRouter,
  TestTable,
} from './test-harness.test.js';

const HOST = 'app.example.test';

/**
 * Request smuggling corpus. Each entry must get a 400 with the connection closed and must
 * never reach a dyno. `node` says whether Node's own parser (llhttp) already refuses it or
 * whether the router's guard has to. `haproxy` says what HAProxy 2.6 does where it differs:
 * its parser normalises these before any rule (or Lua) sees the request, so they cannot be
 * refused there; the dyno gets one unambiguous request (RFC 9112 §6.3), never a second one.
 */
const SMUGGLING: {
  name: string;
  raw: string;
  node: boolean;
  haproxy?: { normalised: string } | { status: number };
}[] = [
  {
    name: 'Content-Length with Transfer-Encoding',
    raw: `POST / HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    node: true,
    haproxy: { normalised: 'Content-Length dropped, the body framed by the chunks' },
  },
  {
    name: 'Transfer-Encoding then Content-Length',
    raw: `POST / HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n`,
    node: true,
    haproxy: { normalised: 'Content-Length dropped, the body framed by the chunks' },
  },
  {
    // llhttp only fails this on the body, after the head was handed over: the guard sees it first.
    name: 'obfuscated Transfer-Encoding (xchunked)',
    raw: `POST / HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`,
    node: false,
  },
  {
    name: 'obfuscated Transfer-Encoding (identity, chunked)',
    raw: `POST / HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n`,
    node: false,
    haproxy: { status: 422 },
  },
  {
    name: 'obfuscated Transfer-Encoding (chunked, identity)',
    raw: `POST / HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`,
    node: true,
  },
  {
    name: 'obfuscated Transfer-Encoding (vertical tab)',
    raw: `POST / HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n`,
    node: true,
  },
  {
    name: 'duplicated Transfer-Encoding',
    raw: `POST / HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    node: true,
  },
  {
    name: 'duplicated Transfer-Encoding with different values',
    raw: `POST / HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n`,
    node: true,
  },
  {
    name: 'Transfer-Encoding on HTTP/1.0',
    raw: `POST / HTTP/1.0\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    node: false,
  },
  {
    name: 'duplicated Content-Length',
    raw: `POST / HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde`,
    node: true,
  },
  {
    name: 'Content-Length list',
    raw: `POST / HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 4, 4\r\n\r\nabcd`,
    node: true,
    haproxy: { normalised: 'equal values merged into one Content-Length' },
  },
  {
    name: 'space before the colon (Transfer-Encoding)',
    raw: `POST / HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n`,
    node: true,
  },
  {
    name: 'space before the colon (Content-Length)',
    raw: `POST / HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length : 4\r\n\r\nabcd`,
    node: true,
  },
  {
    name: 'bare LF line endings',
    raw: `POST / HTTP/1.1\nHost: ${HOST}\nContent-Length: 4\n\nabcd`,
    node: true,
    haproxy: { normalised: 'bare LF accepted as a line end' },
  },
  {
    name: 'bare LF inside the head',
    raw: `GET / HTTP/1.1\r\nHost: ${HOST}\nX-Smuggle: y\r\n\r\n`,
    node: true,
    haproxy: { normalised: 'bare LF accepted as a line end' },
  },
  {
    name: 'bare CR inside the head',
    raw: `GET / HTTP/1.1\r\nHost: ${HOST}\rX-Smuggle: y\r\n\r\n`,
    node: true,
  },
  {
    name: 'folded header (obs-fold)',
    raw: `GET / HTTP/1.1\r\nHost: ${HOST}\r\nX-Foo: a\r\n  b\r\n\r\n`,
    node: true,
    haproxy: { normalised: 'the fold replaced by spaces' },
  },
  {
    name: 'folded Transfer-Encoding',
    raw: `POST / HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n`,
    node: true,
    haproxy: { normalised: 'the fold replaced by spaces' },
  },
  {
    name: 'bare LF in a chunk size line',
    raw: `POST / HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\n\r\n3;x\nabc\r\n0\r\n\r\n`,
    node: true,
    haproxy: { normalised: 'bare LF accepted as a line end' },
  },
  {
    name: 'NUL in a header value',
    raw: `GET / HTTP/1.1\r\nHost: ${HOST}\r\nX-A: a\x00b\r\n\r\n`,
    node: true,
  },
];

/** Host spoofing attempts: none may reach `app`'s dyno or any other. */
const SPOOFED_HOSTS: { name: string; raw: string; status: number }[] = [
  { name: 'duplicated Host', raw: `GET / HTTP/1.1\r\nHost: evil.test\r\nHost: ${HOST}\r\n\r\n`, status: 400 },
  { name: 'CRLF injected in Host', raw: `GET / HTTP/1.1\r\nHost: evil.test\r\n${HOST}\r\n\r\n`, status: 400 },
  { name: 'CR in Host', raw: `GET / HTTP/1.1\r\nHost: evil.test\r${HOST}\r\n\r\n`, status: 400 },
  {
    name: 'absolute-form target for another host',
    raw: `GET http://${HOST}/ HTTP/1.1\r\nHost: evil.test\r\n\r\n`,
    status: 400,
  },
  { name: 'missing Host', raw: 'GET / HTTP/1.1\r\n\r\n', status: 400 },
  {
    name: 'prefix of the app name',
    raw: 'GET / HTTP/1.1\r\nHost: evilapp.example.test\r\n\r\n',
    status: 404,
  },
  { name: 'user-info in Host', raw: `GET / HTTP/1.1\r\nHost: evil.test@${HOST}\r\n\r\n`, status: 404 },
  { name: 'space in Host', raw: `GET / HTTP/1.1\r\nHost: evil.test ${HOST}\r\n\r\n`, status: 404 },
  { name: 'percent-encoded dot', raw: 'GET / HTTP/1.1\r\nHost: app%2eexample.test\r\n\r\n', status: 404 },
];

describePlanes('router: security (raw sockets)', (plane) => {
  let dyno: Backend;
  let r: TestRouter;
  before(async () => {
    dyno = await startBackend();
    r = await startRouter(new TestTable().set('app', [dyno.target('web.1')]), {}, plane);
  });
  after(async () => {
    await r.router.close();
    await dyno.close();
  });

  it('the parser runs in strict mode (insecureHTTPParser is off)', async () => {
    const reply = await rawRequest(r.port, `GET / HTTP/1.1\r\nHost: ${HOST}\r\nX-Bad: a\x01b\r\n\r\n`);
    expect(reply.text).to.match(/^HTTP\/1\.1 400 /);
  });

  for (const c of SMUGGLING) {
    const h = plane === 'haproxy' ? c.haproxy : undefined;
    const by = c.node ? 'Node parser' : 'router guard';
    const what = !h
      ? `400, closed, not forwarded (${by})`
      : 'normalised' in h
        ? `forwarded once, normalised by HAProxy's parser (${h.normalised})`
        : `${h.status} from HAProxy's parser, closed, not forwarded`;
    it(`smuggling: ${c.name} → ${what}`, async () => {
      const before = dyno.seen.length;
      const reply = await rawRequest(r.port, c.raw);
      if (h && 'normalised' in h) {
        expect(reply.text, h.normalised).to.match(/^HTTP\/1\.1 200 /);
        expect((reply.text.match(/HTTP\/1\.1 /g) ?? []).length, 'exactly one response').to.equal(1);
        expect(dyno.seen.length - before, 'forwarded once').to.equal(1);
        return;
      }
      if (h && 'status' in h) {
        // Refused by HAProxy's parser itself, with its own status (no rule runs before it).
        expect(reply.text).to.match(new RegExp(`^HTTP/1\\.1 ${h.status} `));
        expect(reply.closedByServer, 'connection closed').to.equal(true);
        expect(dyno.seen.length, 'never forwarded').to.equal(before);
        return;
      }
      expect(reply.text, c.name).to.match(/^HTTP\/1\.1 400 /);
      expect((reply.text.match(/HTTP\/1\.1 /g) ?? []).length, 'exactly one response').to.equal(1);
      expect(reply.text.toLowerCase()).to.contain('connection: close');
      expect(reply.closedByServer, 'connection closed').to.equal(true);
      expect(dyno.seen.length, 'never forwarded').to.equal(before);
    });
  }

  for (const c of SPOOFED_HOSTS) {
    it(`host spoofing: ${c.name} → ${c.status}, never forwarded`, async () => {
      const before = dyno.seen.length;
      const reply = await rawRequest(r.port, c.raw);
      expect(reply.text).to.match(new RegExp(`^HTTP/1\\.1 ${c.status} `));
      expect(dyno.seen.length).to.equal(before);
    });
  }

  it('a valid chunked request with a pipelined second request reaches the dyno as two requests', async () => {
    const before = dyno.seen.length;
    const raw =
      `POST /one HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n` +
      `GET /two HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`;
    const reply = await rawRequest(r.port, raw, 1000);
    expect((reply.text.match(/HTTP\/1\.1 200 /g) ?? []).length).to.equal(2);
    const got = dyno.seen.slice(before);
    expect(got.map((s) => s.url)).to.deep.equal(['/one', '/two']);
    expect(got[0]!.headers['transfer-encoding']).to.equal('chunked');
  });

  describe('limits (H25, 400)', () => {
    const at = (n: number): string => 'a'.repeat(n);
    it('request line: 8192 bytes pass, more are refused', async () => {
      // `GET ` + path + ` HTTP/1.1` is 13 bytes around the path.
      const ok = await rawRequest(r.port, `GET /${at(8192 - 14)} HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
      expect(ok.text).to.match(/^HTTP\/1\.1 200 /);
      const before = dyno.seen.length;
      const big = await rawRequest(r.port, `GET /${at(8192 - 13)} HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
      expect(big.text).to.match(/^HTTP\/1\.1 400 /);
      expect(big.text).to.contain('H25');
      expect(big.closedByServer).to.equal(true);
      expect(dyno.seen.length).to.equal(before);
      expect(await r.line(/code=H25 desc="HTTP Restriction".*status=400/)).to.contain(
        'host=app.example.test',
      );
    });
    it('header value: 8192 bytes pass, more are refused', async () => {
      expect((await request(r.port, { host: HOST, headers: { 'x-big': at(8192) } })).status).to.equal(200);
      expect((await request(r.port, { host: HOST, headers: { 'x-big': at(8193) } })).status).to.equal(400);
      // Spaces around a value are not part of it.
      const padded = await rawRequest(
        r.port,
        `GET / HTTP/1.1\r\nHost: ${HOST}\r\nX-Big:  ${at(8192)}  \r\n\r\n`,
      );
      expect(padded.text).to.match(/^HTTP\/1\.1 200 /);
    });
    itOn(
      plane,
      ['node'],
      'HAProxy (2.6 to 3.4) refuses header names over 255 bytes with its own 400 (HTX keeps a name length in 8 bits)',
    )('header name: 1000 bytes pass, more are refused', async () => {
      expect((await request(r.port, { host: HOST, headers: { [`x-${at(998)}`]: 'v' } })).status).to.equal(
        200,
      );
      const name = await request(r.port, { host: HOST, headers: { [`x-${at(999)}`]: 'v' } });
      expect(name.status).to.equal(400);
      expect(name.body).to.contain('H25');
    });
    it('1000 headers pass, 1001 are refused', async () => {
      const headers = (n: number): string => Array.from({ length: n }, (_, i) => `X-H${i}: v\r\n`).join('');
      const ok = await rawRequest(r.port, `GET / HTTP/1.1\r\nHost: ${HOST}\r\n${headers(999)}\r\n`);
      expect(ok.text).to.match(/^HTTP\/1\.1 200 /);
      const big = await rawRequest(r.port, `GET / HTTP/1.1\r\nHost: ${HOST}\r\n${headers(1000)}\r\n`);
      expect(big.text).to.match(/^HTTP\/1\.1 400 /);
    });
    it('a head larger than the parser allows is refused and closed', async () => {
      const many = Array.from({ length: 40 }, (_, i) => `X-H${i}: ${at(8000)}\r\n`).join('');
      const reply = await rawRequest(r.port, `GET / HTTP/1.1\r\nHost: ${HOST}\r\n${many}\r\n`);
      expect(reply.text).to.match(/^HTTP\/1\.1 400 /);
      expect(reply.closedByServer).to.equal(true);
    });
  });
});
