import {
  checkRouteRules,
  type IncomingRequestInfo,
  Kernel,
  type RouteDecision,
  type RouteRule,
} from '@slipway/core';
import { expect } from 'chai';
import { applyRouteRules, cookieValue, ruleMatches, usableRules } from './route-rules.js';
import { compileRouteRules } from './route-rules-compile.js';

const req = (over: Partial<IncomingRequestInfo> = {}): IncomingRequestInfo => ({
  method: 'GET',
  host: 'shop.example.test',
  url: '/',
  headers: {},
  remoteAddress: '127.0.0.1',
  protocol: 'http',
  ...over,
});
const shop: RouteDecision = { kind: 'app', app: 'shop' };

describe('route rules: the evaluator (pure)', () => {
  it('matches every condition it is given, and only those', () => {
    expect(ruleMatches(undefined, req())).to.equal(true);
    expect(ruleMatches({ protocol: 'https' }, req())).to.equal(false);
    expect(ruleMatches({ host: 'shop.example.test', pathPrefix: '/a' }, req({ url: '/ab?x=/a' }))).to.equal(
      true,
    );
    expect(ruleMatches({ pathPrefix: '/x' }, req({ url: '/a?/x' }))).to.equal(false);
    expect(ruleMatches({ header: { name: 'X-A', value: '1' } }, req({ headers: { 'x-a': '1' } }))).to.equal(
      true,
    );
    expect(
      ruleMatches({ header: { name: 'x-a', value: '1' } }, req({ headers: { 'x-a': '1, 1' } })),
    ).to.equal(false);
    expect(ruleMatches({ header: { name: 'x-a' } }, req({ headers: { 'x-a': '' } }))).to.equal(true);
    expect(ruleMatches({ header: { name: 'x-a', absent: true } }, req({ headers: { 'x-a': '' } }))).to.equal(
      false,
    );
    expect(
      ruleMatches({ cookie: { name: 'c', value: '2' } }, req({ headers: { cookie: 'c=1; d=3; c=2' } })),
    ).to.equal(true);
    expect(ruleMatches({ source: ['10.0.0.0/8', '::1'] }, req({ remoteAddress: '10.2.3.4' }))).to.equal(true);
    expect(ruleMatches({ source: ['10.0.0.0/8', '::1'] }, req({ remoteAddress: '::1' }))).to.equal(true);
    expect(ruleMatches({ source: ['10.0.0.0/8'] }, req())).to.equal(false);
    expect(cookieValue(undefined, 'c')).to.equal(undefined);
  });

  it('first decisive rule wins, one app switch, edits of the serving app add up onto any answer', () => {
    const rules: Record<string, RouteRule[]> = {
      shop: [
        { action: { kind: 'edit', responseHeaders: { 'X-From': 'shop' } } },
        { match: { header: { name: 'x-canary', value: '1' } }, action: { kind: 'app', app: 'shop-canary' } },
        {
          match: { pathPrefix: '/old' },
          action: { kind: 'redirect', status: 301, location: 'https://n.test', keepPath: true },
        },
        { match: { pathPrefix: '/old' }, action: { kind: 'respond', status: 410, body: 'never' } },
        { action: { kind: 'edit', requestHeaders: { set: { 'X-Late': '1' } } } },
      ],
      'shop-canary': [
        { action: { kind: 'app', app: 'shop' } },
        {
          match: { pathPrefix: '/down' },
          action: { kind: 'respond', status: 503, code: 'H80', page: 'Back soon.' },
        },
      ],
    };
    const run = (r: IncomingRequestInfo) => applyRouteRules(shop, r, (a) => rules[a] ?? []);
    expect(run(req({ url: '/old/x?y' }))).to.deep.include({
      kind: 'redirect',
      status: 301,
      location: 'https://n.test/old/x?y',
      responseHeaders: { 'X-From': 'shop' },
    });
    const plain = run(req()) as Extract<RouteDecision, { kind: 'app' }>;
    expect(plain).to.deep.include({ kind: 'app', app: 'shop' });
    expect(plain.requestHeaders?.set).to.deep.equal({ 'X-Late': '1' });
    // The canary's own rules; its app action back to shop is not a second switch; shop's edits stay behind.
    expect(run(req({ headers: { 'x-canary': '1' } }))).to.deep.equal({ kind: 'app', app: 'shop-canary' });
    const down = run(
      req({
        url: '/down',
        headers: { 'x-canary': '1', accept: 'application/json', 'x-request-id': 'r'.repeat(20) },
      }),
    );
    expect(down).to.include({ kind: 'respond', status: 503, code: 'H80', app: 'shop-canary' });
    expect(JSON.parse((down as { body: string }).body)).to.include({ code: 'H80', detail: 'Back soon.' });
    expect(applyRouteRules({ kind: 'none' }, req(), () => rules.shop!)).to.deep.equal({ kind: 'none' });
  });

  it('refuses malformed rules by code, naming the field; usableRules skips them and reports each once', async () => {
    const bad: RouteRule = {
      name: 'x',
      match: { pathPrefix: 'a' },
      action: { kind: 'redirect', status: 303 as 301, location: '/r' },
    };
    let err: { code?: string; message?: string } = {};
    try {
      checkRouteRules('shop', [bad]);
    } catch (e) {
      err = e as typeof err;
    }
    expect(err.code).to.equal('SLIPWAY_ERR_ROUTE_RULE');
    expect(err.message)
      .to.contain('match.pathPrefix')
      .and.contain('301, 302, 307 or 308')
      .and.contain('absolute');
    // What a plugin reading its settings may pass: ranges Node's BlockList throws on, numbers
    // where text goes (the HAProxy compiler's Buffer.from would throw on them).
    const odd = [
      { match: { source: ['10.0.0.0/33'] }, action: { kind: 'code' } },
      { match: { source: ['999.1.1.1'] }, action: { kind: 'code' } },
      { match: { source: ['::1/129'] }, action: { kind: 'code' } },
      { match: { host: 5 }, action: { kind: 'code' } },
      { match: { pathPrefix: 5 }, action: { kind: 'code' } },
      { match: { header: { name: 'x', value: 5 } }, action: { kind: 'code' } },
      { match: { cookie: { name: 'c', value: 5 } }, action: { kind: 'code' } },
      { action: { kind: 'respond', status: 200, body: 5 } },
      { action: { kind: 'redirect', status: 302, location: 5 } },
    ] as unknown as RouteRule[];
    for (const r of odd)
      expect(() => checkRouteRules('shop', [r]), JSON.stringify(r)).to.throw(/route rule #1 of app shop/);
    checkRouteRules('shop', [
      { match: { source: ['10.0.0.0/8', '192.0.2.7', '::1/128', '::'] }, action: { kind: 'code' } },
    ]);
    const good: RouteRule = { action: { kind: 'respond', status: 200, body: 'ok' } };
    const kernel = new Kernel();
    await kernel.use({
      name: 'p',
      register: (reg) => reg.hooks.routeRules.tap('p', (l) => [...l, bad, good]),
    });
    const errors: unknown[] = [];
    const rules = () =>
      usableRules(kernel.hooks.routeRules, 'shop', ['shop.example.test'], (e) => errors.push(e));
    expect(rules()).to.deep.equal([good]);
    expect(rules()).to.deep.equal([good]);
    expect(errors).to.have.length(1);
  });
});

describe('route rules: the HAProxy compiler (pure)', () => {
  it('compiles matches into anchored regexes over the signature, values by action hash', () => {
    const maintenance: RouteRule = {
      action: { kind: 'respond', status: 503, code: 'H80', headers: { 'Retry-After': '60' } },
    };
    const c = compileRouteRules(
      [
        {
          app: 'shop',
          slot: 'slot1',
          rules: [
            {
              match: { header: { name: 'X-Canary', value: 'a b' }, pathPrefix: '/p.q' },
              action: { kind: 'app', app: 'beta' },
            },
            {
              match: { cookie: { name: 'c', value: '1' }, source: ['10.0.0.0/8'] },
              action: { kind: 'app', app: 'gone' },
            },
            maintenance,
          ],
        },
        { app: 'blog', slot: 'slot2', rules: [maintenance] },
        { app: 'idle', slot: 'slot3', rules: [] },
      ],
      (app) => (app === 'beta' ? 'slot7' : undefined),
    );
    expect(c.shape).to.deep.equal({
      headers: ['x-canary'],
      cookies: ['c'],
      statuses: [503],
      requestSet: [],
      requestRemove: [],
      responseHeaders: ['retry-after'],
    });
    expect(c.slots).to.deep.equal(['slot1 1', 'slot2 1']);
    expect(c.first[0]).to.match(
      /^\^slot1\[\|\]https\?\[\|\]\[\^\|\]\*\[\|\]\[\^\|\]\*\[\|\]1:a%20b\[\|\]\[\^\|\]\*\[\|\]\[\/\]\(\?:p\|%70\)\(\?:\[\.\]\|%2\[Ee\]\)\(\?:q\|%71\) a\w+$/,
    );
    expect(c.first[1]).to.contain('[|][^|]*,(?:t0),[^|]*[|]').and.contain('[1-9][0-9]*:1[|]');
    // App switches are in the first lookup only; one maintenance action for both apps.
    expect(c.second).to.have.length(2);
    const id = c.second[0]!.split(' ')[1];
    expect(c.second[1]!.split(' ')[1]).to.equal(id);
    expect(c.values).to.include(`${id}.status 503`).and.include(`${id}.code H80`);
    expect(c.values).to.include(`${id}.res.retry-after ${Buffer.from('60').toString('base64')}`);
    expect(c.values.filter((v) => v.endsWith('.app slot7'))).to.have.length(1);
    expect(c.values.filter((v) => v.endsWith('.app nil'))).to.have.length(1);
    expect(c.sources).to.deep.equal(['10.0.0.0/8 ,t0,']);
    // Nothing a map line cannot hold: no spaces in keys, no `;` or `#` anywhere.
    for (const line of [...c.first, ...c.second, ...c.values]) {
      expect(line.split(' ')).to.have.length(2);
      expect(line).to.not.match(/[;#\\]/);
    }
  });

  it('combines edit rules largest first, tags nested source ranges, and reports what it cannot compile', () => {
    const c = compileRouteRules(
      [
        {
          app: 'shop',
          slot: 'slot0',
          rules: [
            {
              match: { source: ['10.0.0.0/8'] },
              action: { kind: 'edit', requestHeaders: { set: { 'X-Net': 'ten' } } },
            },
            {
              match: { source: ['10.1.0.0/16'] },
              action: { kind: 'edit', requestHeaders: { remove: ['X-Net'] } },
            },
            { match: { pathPrefix: '/a b' }, action: { kind: 'respond', status: 200, body: 'x' } },
          ],
        },
      ],
      () => undefined,
    );
    expect(c.edits).to.have.length(3);
    expect(c.edits[0]).to.match(/^\^\(\?=.*\)\(\?=.*\) a\w+$/);
    expect(c.sources).to.deep.equal(['10.0.0.0/8 ,t0,', '10.1.0.0/16 ,t0,t1,']);
    // Both match from 10.1.x.x: the later removal wins over the set, as withHeaderEdits merges.
    const both = c.edits[0]!.split(' ')[1];
    expect(c.values).to.include(`${both}.del.x-net 1`);
    expect(c.values.some((v) => v.startsWith(`${both}.req.`))).to.equal(false);
    expect(c.problems.join()).to.contain('/a b');
    expect(c.first).to.have.length(0);
  });
});
