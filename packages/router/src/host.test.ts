import { expect } from 'chai';
import { normalizeHost, resolveApp } from './host.js';
import { formatRequestLine } from './log-line.js';
import { createRouter } from './router.js';
import { TestTable } from './test-harness.test.js';

describe('router: host matching and log lines (unit)', () => {
  it('normalizes Host headers and refuses anything that is not a DNS name', () => {
    expect(normalizeHost('App.Example.TEST.:8080')).to.equal('app.example.test');
    expect(normalizeHost('a.b')).to.equal('a.b');
    for (const bad of [
      '',
      'a b',
      'a\r\nb',
      'user@a.b',
      '[::1]:80',
      'a..b',
      '.a.b',
      'a.b..',
      'a_b',
      'x'.repeat(256),
    ])
      expect(normalizeHost(bad), JSON.stringify(bad)).to.equal(undefined);
  });

  it('resolves custom domains first, then exactly one label under the base domain', () => {
    const table = new TestTable().set('app', []).set('www', []);
    table.domains.set('app.example.test', 'www');
    expect(resolveApp('app.example.test', 'example.test', table)).to.equal('www');
    table.domains.clear();
    expect(resolveApp('app.example.test', 'example.test', table)).to.equal('app');
    expect(resolveApp('evilapp.example.test', 'example.test', table)).to.equal(undefined);
    expect(resolveApp('x.app.example.test', 'example.test', table)).to.equal(undefined);
    expect(resolveApp('appexample.test', 'example.test', table)).to.equal(undefined);
    expect(resolveApp('example.test', 'example.test', table)).to.equal(undefined);
  });

  it('formats errors with code and desc, and keeps quoted fields from forging fields or lines', () => {
    const line = formatRequestLine({
      code: 'H12',
      desc: 'Request timeout',
      method: 'GET',
      path: '/a"b\nc',
      host: 'h',
      requestId: 'id',
      fwd: '1.2.3.4',
      dyno: 'web.1',
      connectMs: 1,
      serviceMs: 30000,
      status: 503,
      bytes: 0,
      protocol: 'http',
    });
    expect(line).to.equal(
      'at=error code=H12 desc="Request timeout" method=GET path="/a%22b%0Ac" host=h request_id=id fwd="1.2.3.4" dyno=web.1 connect=1ms service=30000ms status=503 bytes=0 protocol=http',
    );
  });

  it('refuses bad options with coded errors', () => {
    expect(() => createRouter({ table: new TestTable(), baseDomain: 'bad domain' }))
      .to.throw()
      .with.property('code', 'SLIPWAY_ERR_ROUTER_BASE_DOMAIN');
    expect(() => createRouter({ table: new TestTable(), baseDomain: 'x.test', timeouts: { idle: -1 } }))
      .to.throw(/timeouts\.idle/)
      .with.property('code', 'SLIPWAY_ERR_ROUTER_OPTION');
  });
});
