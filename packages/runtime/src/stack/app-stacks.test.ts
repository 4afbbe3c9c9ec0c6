/**
 * A stack per app, through a real platform, the real CLI and the real `git` client: Heroku's
 * Django tutorial app, unchanged but for `.python-version` 3.14, pushed to an app created with
 * `apps:create --stack slipway-14` (Debian testing) gets testing's Python 3.14 in its slug and
 * serves `/` and its database page (Postgres over TLS); the same push to a `slipway-13` app fails
 * with the versions available and the `stack:set` that fixes it. `stack:set` takes effect at the
 * next build: the live release keeps running in the stack it was built in (a restart too).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findServerBinDir } from '@slipway/addon-postgres';
import { expect } from 'chai';
import type { Platform } from '../platform.js';
import { apiCaller, CLI, routerGet } from '../platform-harness.test-helper.js';
import {
  pushFixture,
  routerJson,
  run,
  startTutorialPlatform,
  stopTutorialPlatform,
} from '../tutorial-apps.test-helper.js';
import { stackBuilt } from './app-stacks.js';

const DJANGO = fileURLToPath(new URL('../../test/fixtures/heroku-apps/django', import.meta.url));

describe('a stack per app: Python 3.14 on slipway-14 (real git push, stacks, Postgres over TLS)', function () {
  this.timeout(900_000);
  let dir: string;
  let p: Platform;

  before(async function () {
    const missing = [
      ...(process.getuid?.() === 0 ? [] : ['root (builds enter a stack by mounts)']),
      ...((await run('which', ['git', 'bwrap'], '/')).code ? ['git and bubblewrap'] : []),
      ...((await findServerBinDir()) ? [] : ['PostgreSQL (initdb, postgres)']),
      ...((await stackBuilt('slipway-13')) ? [] : ['stack slipway-13 (scripts/stack-setup)']),
      ...((await stackBuilt('slipway-14')) ? [] : ['stack slipway-14 (scripts/stack-setup slipway-14)']),
    ];
    if (missing.length) {
      const why = `needs ${missing.join(', ')}`;
      if (process.env.CI === 'true') throw new Error(why);
      console.warn(`      SKIPPED stack per app: ${why}`);
      this.skip();
    }
    ({ dir, p } = await startTutorialPlatform('slipway-app-stacks-'));
    const host = p.warnings.find((w) => /builds run on the HOST|NOT sandboxed/.test(w));
    if (host) throw new Error(host);
  });
  after(() => stopTutorialPlatform(p, dir));

  const api = apiCaller(() => p);
  /** The Django tutorial app with `.python-version` 3.14, pushed to `app`. */
  const push = (app: string) => pushFixture(p, dir, app, DJANGO, { '.python-version': '3.14\n' });
  const getJson = (app: string, path: string) => routerJson(p.routerPort, app, path);
  /** The real CLI against this platform (its credentials file); exit code and output. */
  const cli = (...args: string[]) =>
    run(process.execPath, [CLI, ...args, '--data-dir', join(dir, 'data')], dir);

  it('lists the stacks, built here; apps:create and app.json take a stack; an unknown one is a coded error and creates no app', async () => {
    const stacks = await api('GET', '/stacks');
    expect(stacks.json.map((s: any) => [s.name, s.suite, s.built, s.default])).to.deep.equal([
      ['slipway-13', 'trixie', true, true],
      ['slipway-14', 'testing', true, false],
    ]);
    const bad = await api('POST', '/apps', { name: 'on-cedar', stack: 'cedar-10' });
    expect(bad.status).to.equal(422);
    expect(bad.json.code).to.equal('SLIPWAY_ERR_STACK_UNKNOWN');
    expect(bad.json.hint).to.include('slipway-14');
    expect((await api('GET', '/apps/on-cedar')).status).to.equal(404);
    // app.json's `stack` at app setup: a Slipway stack is the app's; Heroku's name means the default.
    const setup = await api('POST', '/app-setups', { name: 'from-json', manifest: { stack: 'slipway-14' } });
    expect(setup.status, JSON.stringify(setup.json)).to.equal(201);
    expect((await api('GET', '/apps/from-json/stack')).json.build_stack).to.deep.equal({
      name: 'slipway-14',
    });
    expect((await api('GET', '/apps/from-json')).json).to.deep.include({
      stack: null,
      build_stack: { name: 'slipway-14' },
    });
    const heroku = await api('POST', '/app-setups', {
      name: 'from-heroku',
      manifest: { stack: 'heroku-24' },
    });
    expect(heroku.json.warnings).to.deep.equal(["stack heroku-24 is Heroku's: using slipway-13"]);
    expect((await api('GET', '/apps/from-heroku/stack')).json.build_stack).to.deep.equal({
      name: 'slipway-13',
    });
    const unknown = await api('POST', '/app-setups', { name: 'from-bad', manifest: { stack: 'slipway-99' } });
    expect(unknown.json.code).to.equal('SLIPWAY_ERR_STACK_UNKNOWN');
    expect((await api('GET', '/apps/from-bad')).status).to.equal(404);
  });

  it("Django on .python-version 3.14, app created on slipway-14: testing's Python 3.14 in the slug serves / and its DB page", async () => {
    const created = await cli('apps:create', 'django-314', '--stack', 'slipway-14');
    expect(created.out).to.include('Creating django-314... done, stack is slipway-14');
    const a = await api('POST', '/apps/django-314/addons', { plan: 'heroku-postgresql:essential-0' });
    expect(a.status, JSON.stringify(a.json)).to.equal(201);
    expect((await api('GET', '/apps/django-314/stack')).json).to.deep.equal({
      build_stack: { name: 'slipway-14' },
      stack: null,
    });
    const r = await push('django-314');
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.match(/remote: -----> Build root: the slipway-14 stack's/);
    expect(r.out).to.match(/remote: -----> Installing Python 3\.14\.\d+ \(Debian testing/);
    expect((await getJson('django-314', '/')).python).to.match(/^3\.14\./);
    expect(await getJson('django-314', '/db/')).to.deep.equal({ greetings: 1, ssl: true });
    expect((await api('GET', '/apps/django-314')).json.stack).to.deep.equal({ name: 'slipway-14' });
  });

  it('the same push to a slipway-13 app fails naming the versions available and `slipway stack:set slipway-14`', async () => {
    expect((await api('POST', '/apps', { name: 'django-13' })).status).to.equal(201);
    const r = await push('django-13');
    expect(r.code).to.not.equal(0);
    expect(r.out, r.out).to.match(/\.python-version asks for Python 3\.14: .*available here: 3\.11, 3\.13/);
    expect(r.out).to.include('slipway stack:set slipway-14');
  });

  it('stack:set takes effect at the next build: the live release keeps its stack through a restart, the next build uses the new one', async () => {
    const set = await cli('stack:set', 'slipway-13', '-a', 'django-314');
    expect(set.code, set.out).to.equal(0);
    expect(set.out).to.include('Setting stack to slipway-13... done');
    const listed = await cli('stacks', '-a', 'django-314');
    expect(listed.out).to.match(/^\*\s+slipway-13\s+built/m);
    expect(listed.out).to.match(/^\s+slipway-14\s+built/m);
    expect(listed.out).to.include('The live release runs on slipway-14; the next build uses slipway-13.');
    const info = await cli('apps:info', '-a', 'django-314');
    expect(info.out).to.match(/Stack:\s+slipway-14 \(next build: slipway-13\)/);
    // Restarted dynos run in slipway-14 still: testing's Python 3.14 needs its C library.
    expect((await api('DELETE', '/apps/django-314/dynos')).status).to.equal(202);
    let python = '';
    for (let i = 0; i < 60 && !python.startsWith('3.14.'); i++) {
      const r = await routerGet(p.routerPort, 'django-314', '/');
      if (r.status === 200) python = JSON.parse(r.body).python;
      else await new Promise((s) => setTimeout(s, 500));
    }
    expect(python).to.match(/^3\.14\./);
    const next = await push('django-314');
    expect(next.code).to.not.equal(0);
    expect(next.out).to.include('slipway stack:set slipway-14');
    expect((await getJson('django-314', '/db/')).greetings).to.equal(2);
    const unknown = await cli('stack:set', 'heroku-24', '-a', 'django-314');
    expect(unknown.code).to.not.equal(0);
    expect(unknown.out).to.match(/unknown stack heroku-24[\s\S]*slipway-13, slipway-14/);
  });
});
