// Over 400 lines: every case runs against one platform with its users and apps set up once.
/**
 * Accounts and per-app access on a real platform over HTTP: every app route is enumerated from
 * the API server itself (so a route added later is covered without touching this file), tokens
 * are revoked, a real git client pushes, a browser-style session sends changes without its
 * CSRF token, and sign-ins are throttled.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { type Platform, startPlatform } from '../platform.js';
import { CLI, fixtureCopy, nodeOnlyConfig, removeFixtureCopies } from '../platform-harness.test-helper.js';
import { OWNER_ROUTES, PUBLIC_ROUTES, USER_ROUTES } from './access-gate.js';

type Answer = { status: number; body: any; headers: Headers };

describe('accounts and per-app access (real platform, HTTP, git)', function () {
  this.timeout(240_000);
  let dir: string;
  let p: Platform;
  const pw = 'correct horse battery';
  const tokens: Record<string, string> = {};

  const call = async (
    token: string | undefined,
    method: string,
    path: string,
    body?: unknown,
    headers = {},
  ) => {
    const r = await fetch(new URL(path, p.apiUrl), {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      redirect: 'manual',
    });
    const text = await r.text();
    let parsed: any = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // text answers (logs, git)
    }
    return { status: r.status, body: parsed, headers: r.headers } as Answer;
  };
  const ok = async (token: string, method: string, path: string, body?: unknown) => {
    const r = await call(token, method, path, body);
    if (r.status >= 300) throw new Error(`${method} ${path} → ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const login = async (email: string) =>
    (await ok('', 'POST', '/login', { email, password: pw, description: 'test' })).access_token
      .token as string;
  const slipway = (
    args: string[],
    env: Record<string, string>,
    input = '',
  ): Promise<{ code: number; out: string }> =>
    new Promise((resolve) => {
      const child = execFile(
        process.execPath,
        [CLI, ...args],
        { env: { ...process.env, SLIPWAY_APP: '', SLIPWAY_API_URL: '', SLIPWAY_TOKEN: '', ...env } },
        (err, stdout, stderr) =>
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
      );
      child.stdin?.end(input);
    });
  /** What app B looks like through the owner's eyes: must not move when others are refused. */
  const snapshot = async (app: string) =>
    JSON.stringify(
      await Promise.all(
        [
          '',
          '/config-vars',
          '/releases',
          '/formation',
          '/domains',
          '/log-drains',
          '/addons',
          '/collaborators',
        ].map((s) => ok(p.token, 'GET', `/apps/${app}${s}`)),
      ),
    );

  const start = (ownerEmail: string) =>
    startPlatform({
      dataDir: join(dir, 'data'),
      routerPort: 0,
      apiPort: 0,
      configFile: join(dir, 'slipway.config.json'),
      bootTimeoutMs: 5000,
      stopGraceMs: 1000,
      ownerEmail,
      loginLimits: { maxFailures: 3 },
    });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-access-'));
    await chmod(dir, 0o755);
    await nodeOnlyConfig(dir);
    p = await start('boss@example.test');
    for (const u of ['alice', 'bob', 'carol', 'dave'])
      await ok(p.token, 'POST', '/users', { email: `${u}@example.test`, password: pw });
    for (const u of ['alice', 'bob', 'carol', 'dave']) tokens[u] = await login(`${u}@example.test`);
    await ok(tokens.alice as string, 'POST', '/apps', { name: 'app-a' });
    await ok(tokens.bob as string, 'POST', '/apps', { name: 'app-b' });
    await ok(tokens.bob as string, 'PATCH', '/apps/app-b/config-vars', { SECRET: 'b-only' });
    await ok(tokens.alice as string, 'POST', '/apps/app-a/collaborators', { user: 'carol@example.test' });
  });
  after(async () => {
    await p?.stop();
    await rm(dir, { recursive: true, force: true });
    await removeFixtureCopies();
  });

  it('creates the owner on first start and keeps its password in credentials.json (mode 0600)', async () => {
    const creds = JSON.parse(await readFile(p.credentialsFile, 'utf8'));
    expect(creds.email).to.equal('boss@example.test');
    expect(creds.password).to.be.a('string').with.length.greaterThan(15);
    expect((await stat(p.credentialsFile)).mode & 0o777).to.equal(0o600);
    const me = await ok(await loginAs(creds.email, creds.password), 'GET', '/account');
    expect(me).to.include({ email: 'boss@example.test', admin: true, owner: true });
    // The platform token of credentials.json acts as the owner.
    expect((await ok(p.token, 'GET', '/account')).email).to.equal('boss@example.test');
  });
  const loginAs = async (email: string, password: string) =>
    (await ok('', 'POST', '/login', { email, password })).access_token.token as string;

  it('shows each user only the apps they own or collaborate on; the admin sees all', async () => {
    const names = async (t: string) => ((await ok(t, 'GET', '/apps')) as any[]).map((a) => a.name).sort();
    expect(await names(tokens.alice as string)).to.deep.equal(['app-a']);
    expect(await names(tokens.carol as string)).to.deep.equal(['app-a']);
    expect(await names(tokens.bob as string)).to.deep.equal(['app-b']);
    expect(await names(tokens.dave as string)).to.deep.equal([]);
    expect(await names(p.token)).to.deep.equal(['app-a', 'app-b']);
    const access = await ok(tokens.carol as string, 'GET', '/apps/app-a/collaborators');
    expect(access.map((x: any) => [x.user.email, x.role])).to.deep.equal([
      ['alice@example.test', 'owner'],
      ['carol@example.test', 'collaborator'],
    ]);
  });

  it("refuses a collaborator of app A every route of app B (enumerated from the server), and B doesn't move", async () => {
    const appRoutes = p.apiRoutes.filter((r) => r.path.includes(':app'));
    expect(appRoutes.length).to.be.greaterThan(40);
    const before = await snapshot('app-b');
    const refused: string[] = [];
    for (const r of appRoutes) {
      const path = r.path.replace(/\\\./g, '.').replace(':app', 'app-b').replace(/:\w+/g, 'x1');
      const res = await call(tokens.carol, r.method, path, r.method === 'GET' ? undefined : {});
      expect([403, 404], `${r.method} ${r.path} answered ${res.status}`).to.include(res.status);
      if (res.status === 403) {
        expect(res.body.code).to.match(/^SLIPWAY_ERR_ACCOUNTS_/);
        refused.push(`${r.method} ${r.path}`);
      }
    }
    // 404s only where the path itself names nothing (git's paths for a Basic-less client are 403 too).
    expect(refused.length).to.equal(appRoutes.length);
    expect(await snapshot('app-b')).to.equal(before);
    // The same collaborator does reach app A.
    expect((await call(tokens.carol, 'GET', '/apps/app-a/config-vars')).status).to.equal(200);
    expect((await call(tokens.carol, 'PATCH', '/apps/app-a/config-vars', { FROM: 'carol' })).status).to.equal(
      200,
    );
  });

  it('answers 401 on every route but sign-in and the dashboard files without credentials', async () => {
    for (const r of p.apiRoutes) {
      if (PUBLIC_ROUTES.has(`${r.method} ${r.path}`) || r.path.startsWith('/internal/')) continue;
      const path = r.path.replace(/\\\./g, '.').replace(':app', 'app-a').replace(/:\w+/g, 'x1');
      const res = await call(undefined, r.method, path, r.method === 'GET' ? undefined : {});
      expect(res.status, `${r.method} ${r.path}`).to.equal(401);
    }
  });

  it('keeps admin routes from users and owner-only routes from collaborators', async () => {
    const adminRoutes = p.apiRoutes.filter(
      (r) =>
        !r.path.includes(':app') &&
        !USER_ROUTES.has(`${r.method} ${r.path}`) &&
        !PUBLIC_ROUTES.has(`${r.method} ${r.path}`) &&
        !r.path.startsWith('/internal/'),
    );
    expect(adminRoutes.map((r) => `${r.method} ${r.path}`)).to.include('POST /users');
    for (const r of adminRoutes) {
      const res = await call(
        tokens.carol,
        r.method,
        r.path.replace(/:\w+/g, 'x1'),
        r.method === 'GET' ? undefined : {},
      );
      expect(res.status, `${r.method} ${r.path}`).to.equal(403);
    }
    for (const [route] of OWNER_ROUTES) {
      const [method, path] = route.split(' ') as [string, string];
      const res = await call(
        tokens.carol,
        method,
        path.replace(':app', 'app-a').replace(':email', 'alice@example.test'),
        method === 'DELETE' ? undefined : { user: 'dave@example.test', recipient: 'carol@example.test' },
      );
      expect(res.status, route).to.equal(403);
      expect(res.body.code).to.equal('SLIPWAY_ERR_ACCOUNTS_OWNER_ONLY');
    }
    expect((await ok(p.token, 'GET', '/apps/app-a')).name).to.equal('app-a');
  });

  it("refuses to attach another user's add-on: the owner app's credentials are not the caller's", async () => {
    // bob owns app-b and has no access to app-a: naming app-a's add-on is refused before anything is looked up.
    const res = await call(tokens.bob, 'POST', '/apps/app-b/addon-attachments', { addon: 'app-a::POSTGRES' });
    expect(res.status).to.equal(403);
    expect(res.body.code).to.equal('SLIPWAY_ERR_ACCOUNTS_APP_ACCESS');
    // The admin gets past the gate to the add-on lookup (app-a has no such add-on).
    const admin = await call(p.token, 'POST', '/apps/app-b/addon-attachments', { addon: 'app-a::POSTGRES' });
    expect(admin.status).to.equal(422);
    expect(admin.body.code).to.equal('SLIPWAY_ERR_RUNTIME_ADDON_ATTACHMENT');
  });

  it('stops a revoked token at once, and lists tokens without their secrets', async () => {
    const t = await ok(tokens.dave as string, 'POST', '/oauth/authorizations', { description: 'ci' });
    expect(t.access_token.token).to.match(/^slpu_/);
    expect((await call(t.access_token.token, 'GET', '/account')).status).to.equal(200);
    const list = await ok(tokens.dave as string, 'GET', '/oauth/authorizations');
    expect(list.map((x: any) => x.description)).to.include('ci');
    expect(JSON.stringify(list)).not.to.contain(t.access_token.token);
    await ok(tokens.dave as string, 'DELETE', `/oauth/authorizations/${t.id}`);
    const after = await call(t.access_token.token, 'GET', '/account');
    expect(after.status).to.equal(401);
    // Another user cannot revoke it (it is not theirs).
    const other = await ok(tokens.dave as string, 'POST', '/oauth/authorizations', { description: 'keep' });
    expect((await call(tokens.bob, 'DELETE', `/oauth/authorizations/${other.id}`)).status).to.equal(404);
    expect((await call(other.access_token.token, 'GET', '/account')).status).to.equal(200);
  });

  it('refuses a git push to another user’s app, takes the owner’s, and records the pusher on the release', async () => {
    const home = join(dir, 'home');
    await mkdir(home, { recursive: true });
    const repo = await fixtureCopy('hello', { VERSION: 'pushed' });
    const git = (args: string[]) =>
      new Promise<{ code: number; out: string }>((resolve) =>
        execFile(
          'git',
          ['-c', 'user.name=T', '-c', 'user.email=t@example.test', '-c', 'init.defaultBranch=main', ...args],
          {
            cwd: repo,
            env: { ...process.env, HOME: home, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1' },
          },
          (err, stdout, stderr) =>
            resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
        ),
      );
    await git(['init', '-q']);
    await git(['add', '-A']);
    await git(['commit', '-qm', 'first']);
    const remote = (token: string, app: string) =>
      `${p.apiUrl.replace('http://', `http://git:${token}@`)}/${app}.git`;
    const refused = await git(['push', remote(tokens.bob as string, 'app-a'), 'main']);
    expect(refused.code).not.to.equal(0);
    expect(refused.out).to.match(/403|denied|access/i);
    expect(await ok(p.token, 'GET', '/apps/app-a/builds')).to.deep.equal([]);
    const pushed = await git(['push', remote(tokens.alice as string, 'app-a'), 'main']);
    expect(pushed.code, pushed.out).to.equal(0);
    const releases = await ok(tokens.alice as string, 'GET', '/apps/app-a/releases');
    const deploy = releases.find((r: any) => /^Deploy/.test(r.description));
    expect(deploy?.user?.email).to.equal('alice@example.test');
    const config = releases.find((r: any) => /FROM/.test(r.description));
    expect(config?.user?.email).to.equal('carol@example.test');
    // The CLI's `releases` prints the user, as Heroku's does.
    const r = await slipway(['releases', '-a', 'app-a'], {
      SLIPWAY_API_URL: p.apiUrl,
      SLIPWAY_TOKEN: tokens.carol as string,
    });
    expect(r.out).to.contain('alice@example.test').and.to.contain('carol@example.test');
  });

  it('changes nothing for a session request without its CSRF token; the cookie is HttpOnly and SameSite=Strict', async () => {
    // A cross-site form can post text/plain that reads as JSON: it gets no session (login CSRF).
    const form = await fetch(new URL('/auth/session', p.apiUrl), {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ email: 'alice@example.test', password: pw, description: '=' }),
    });
    expect(form.status).to.equal(415);
    expect(form.headers.get('set-cookie')).to.equal(null);
    expect(((await form.json()) as { code: string }).code).to.equal('SLIPWAY_ERR_ACCOUNTS_SESSION_TYPE');
    const s = await call(undefined, 'POST', '/auth/session', { email: 'alice@example.test', password: pw });
    expect(s.status).to.equal(201);
    const set = s.headers.get('set-cookie') ?? '';
    expect(set)
      .to.match(/HttpOnly/)
      .and.to.match(/SameSite=Strict/)
      .and.to.match(/Path=\//);
    const cookie = set.split(';')[0] as string;
    const csrf = s.body.csrf_token as string;
    const before = await ok(p.token, 'GET', '/apps/app-a/config-vars');
    const no = await call(undefined, 'PATCH', '/apps/app-a/config-vars', { X: '1' }, { cookie });
    expect(no.status).to.equal(403);
    expect(no.body.code).to.equal('SLIPWAY_ERR_ACCOUNTS_CSRF');
    const wrong = await call(
      undefined,
      'POST',
      '/apps',
      { name: 'csrf-app' },
      { cookie, 'x-csrf-token': 'nope' },
    );
    expect(wrong.status).to.equal(403);
    expect(await ok(p.token, 'GET', '/apps/app-a/config-vars')).to.deep.equal(before);
    expect((await ok(p.token, 'GET', '/apps')).map((a: any) => a.name)).not.to.include('csrf-app');
    // Reads need no CSRF token; a change with it goes through; signing out ends the session.
    expect((await call(undefined, 'GET', '/auth/session', undefined, { cookie })).body.csrf_token).to.equal(
      csrf,
    );
    const yes = await call(
      undefined,
      'PATCH',
      '/apps/app-a/config-vars',
      { X: '1' },
      { cookie, 'x-csrf-token': csrf },
    );
    expect(yes.status).to.equal(200);
    expect(
      (await call(undefined, 'DELETE', '/auth/session', undefined, { cookie, 'x-csrf-token': csrf })).status,
    ).to.equal(200);
    expect((await call(undefined, 'GET', '/apps', undefined, { cookie })).status).to.equal(401);
  });

  it('throttles sign-in attempts per email and address (429 with Retry-After), even with the right password', async () => {
    for (let i = 0; i < 3; i++)
      expect(
        (await call(undefined, 'POST', '/login', { email: 'dave@example.test', password: 'wrong!' })).status,
      ).to.equal(401);
    const limited = await call(undefined, 'POST', '/login', { email: 'dave@example.test', password: pw });
    expect(limited.status).to.equal(429);
    expect(Number(limited.headers.get('retry-after'))).to.be.greaterThan(0);
    expect(limited.body.code).to.equal('SLIPWAY_ERR_ACCOUNTS_RATE_LIMITED');
    // Another email from the same address still signs in.
    expect(
      (await call(undefined, 'POST', '/login', { email: 'bob@example.test', password: pw })).status,
    ).to.equal(201);
    // Guesses sent all at once are counted before any is judged: only `maxFailures` get checked.
    const burst = await Promise.all(
      Array.from({ length: 6 }, () =>
        call(undefined, 'POST', '/login', { email: 'erin@example.test', password: 'guess!' }),
      ),
    );
    expect(burst.map((r) => r.status).sort()).to.deep.equal([401, 401, 401, 429, 429, 429]);
  });

  it('transfers an app, records who did what in the audit log, and drives it all from the CLI', async () => {
    const env = {
      SLIPWAY_LOGIN_FILE: join(dir, 'login.json'),
      SLIPWAY_PASSWORD: pw,
      SLIPWAY_API_URL: p.apiUrl,
    };
    const run = async (args: string[]) => {
      const r = await slipway(args, env);
      if (r.code !== 0) throw new Error(`slipway ${args.join(' ')} → ${r.code}\n${r.out}`);
      return r.out;
    };
    expect(await run(['login', '--email', 'bob@example.test', '--api-url', p.apiUrl])).to.contain(
      'Logged in as bob',
    );
    // From here the login file is used: no SLIPWAY_API_URL/SLIPWAY_TOKEN.
    const envNoUrl = { ...env, SLIPWAY_API_URL: '' };
    const asBob = async (args: string[]) => {
      const r = await slipway(args, envNoUrl);
      if (r.code !== 0) throw new Error(`slipway ${args.join(' ')} → ${r.code}\n${r.out}`);
      return r.out;
    };
    expect(await asBob(['whoami'])).to.contain('bob@example.test');
    expect((await asBob(['auth:token'])).trim()).to.match(/^slpu_/);
    expect(await asBob(['access:add', 'dave@example.test', '-a', 'app-b'])).to.contain('done');
    expect(await asBob(['access', '-a', 'app-b']))
      .to.match(/bob@example\.test\s+owner/)
      .and.to.match(/dave@example\.test\s+collaborator/);
    expect(await asBob(['apps:transfer', 'dave@example.test', '-a', 'app-b'])).to.contain('done');
    expect(await asBob(['access', '-a', 'app-b']))
      .to.match(/dave@example\.test\s+owner/)
      .and.to.match(/bob@example\.test\s+collaborator/);
    expect(
      await asBob(['access:remove', 'dave@example.test', '-a', 'app-b']).catch((e) => String(e)),
    ).to.contain('owner');
    const created = await asBob(['authorizations:create', '-d', 'deploy-bot']);
    const id = /authorization (\S+)/.exec(created)?.[1] as string;
    expect(await asBob(['authorizations'])).to.contain('deploy-bot');
    expect(await asBob(['authorizations:revoke', id])).to.contain('Revoked');
    const audit = JSON.parse(await asBob(['audit', '-a', 'app-b', '--json']));
    expect(audit.map((e: any) => `${e.actor} ${e.action} ${e.status}`)).to.include.members([
      'bob@example.test POST /apps/:app/collaborators 201',
      'bob@example.test POST /apps/:app/transfers 201',
      'carol@example.test PATCH /apps/:app/config-vars 403',
    ]);
    // Both answers piped at once: the second must not be lost.
    const changed = await slipway(['passwd'], envNoUrl, `${pw}\nbob's new pass phrase\n`);
    expect(changed.out).to.contain('Password changed');
    const relogin = await slipway(['login', '--email', 'bob@example.test', '--api-url', p.apiUrl], {
      ...envNoUrl,
      SLIPWAY_PASSWORD: "bob's new pass phrase",
    });
    expect(relogin.out).to.contain('Logged in as bob');
    expect(await asBob(['logout'])).to.contain('Logged out bob');
    expect((await slipway(['whoami'], envNoUrl)).code).not.to.equal(0);
  });

  it("keeps users, tokens, access and the owner's first password across a restart", async () => {
    const before = JSON.parse(await readFile(p.credentialsFile, 'utf8'));
    await p.stop();
    p = await start('someone-else@example.test');
    const after = JSON.parse(await readFile(p.credentialsFile, 'utf8'));
    expect(after).to.include({ email: 'boss@example.test', password: before.password, token: before.token });
    expect((await ok(tokens.alice as string, 'GET', '/account')).email).to.equal('alice@example.test');
    expect(((await ok(tokens.carol as string, 'GET', '/apps')) as any[]).map((a) => a.name)).to.deep.equal([
      'app-a',
    ]);
    expect((await call(tokens.carol, 'GET', '/apps/app-b')).status).to.equal(403);
  });
});
