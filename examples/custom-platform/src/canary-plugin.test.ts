import { type IncomingRequestInfo, Kernel, type RouteDecision } from '@slipway/core';
import { applyRouteRules } from '@slipway/router';
import { expect } from 'chai';
import { canaryPlugin, wantsCanary } from './canary-plugin.js';

const request = (headers: IncomingRequestInfo['headers']): IncomingRequestInfo => ({
  method: 'GET',
  host: 'shop.localhost',
  url: '/',
  headers,
  remoteAddress: '127.0.0.1',
  protocol: 'http',
});

/** The decision the Node router reaches from the kernel's route rules. */
const decide = (kernel: Kernel, d: RouteDecision, h: IncomingRequestInfo['headers']): RouteDecision =>
  applyRouteRules(d, request(h), (app) =>
    kernel.hooks.routeRules.call([], { app, hosts: ['shop.localhost'] }),
  );

describe("canary plugin (route rules on a real kernel, through the router's evaluator)", () => {
  it('reads the header first, then the cookie; only "1" asks for the canary', () => {
    expect(wantsCanary({ 'x-canary': '1' })).to.equal(true);
    expect(wantsCanary({ 'x-canary': '0', cookie: 'canary=1' })).to.equal(false);
    expect(wantsCanary({ cookie: 'a=b; canary=1; c=d' })).to.equal(true);
    expect(wantsCanary({ cookie: 'xcanary=1; canary=2' })).to.equal(false);
    expect(wantsCanary({})).to.equal(false);
  });

  it('sends canary requests of listed apps to <app>-canary and leaves everything else alone', async () => {
    const kernel = new Kernel();
    await kernel.use(canaryPlugin, { apps: ['shop'] });
    const route = (d: RouteDecision, h: IncomingRequestInfo['headers']) => decide(kernel, d, h);
    const shop: RouteDecision = { kind: 'app', app: 'shop' };
    expect(route(shop, { 'x-canary': '1' })).to.deep.equal({ kind: 'app', app: 'shop-canary' });
    expect(route(shop, { cookie: 'canary=1' })).to.deep.equal({ kind: 'app', app: 'shop-canary' });
    expect(route(shop, {})).to.deep.equal(shop);
    // Not listed, already the canary, or not an app: unchanged.
    expect(route({ kind: 'app', app: 'blog' }, { 'x-canary': '1' })).to.deep.equal({
      kind: 'app',
      app: 'blog',
    });
    const canary: RouteDecision = { kind: 'app', app: 'shop-canary' };
    expect(route(canary, { 'x-canary': '1' })).to.deep.equal(canary);
    expect(route({ kind: 'none' }, { 'x-canary': '1' })).to.deep.equal({ kind: 'none' });
  });

  it('takes its own header, cookie and suffix, and refuses unknown options with a coded error', async () => {
    const kernel = new Kernel();
    await kernel.use(canaryPlugin, { header: 'X-Beta', cookie: 'beta', suffix: '-beta' });
    expect(decide(kernel, { kind: 'app', app: 'any' }, { 'x-beta': '1' })).to.deep.equal({
      kind: 'app',
      app: 'any-beta',
    });
    expect(decide(kernel, { kind: 'app', app: 'any' }, { 'x-beta': '0', cookie: 'beta=1' })).to.deep.equal({
      kind: 'app',
      app: 'any',
    });
    const err = await new Kernel().use(canaryPlugin, { percent: 5 } as never).catch((e) => e);
    expect(err.code).to.equal('SLIPWAY_ERR_PLUGIN_OPTIONS');
  });
});
