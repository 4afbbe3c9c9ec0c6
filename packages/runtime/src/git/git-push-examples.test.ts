/**
 * Each example app in examples/apps is pushed with the real `git` client to a real platform
 * (the four first-party buildpacks, no add-ons) and must answer `/` through the router.
 * An example whose toolchain is missing on this machine is skipped with a loud reason (and
 * fails under CI=true, where the toolchains are installed).
 */
import { execFile } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { type Platform, startPlatform } from '../platform.js';
import { DEFAULT_BUILDPACKS } from '../plugins.js';

const EXAMPLES = fileURLToPath(new URL('../../../../examples/apps', import.meta.url));
/** The first-party buildpacks, by package name (they resolve from the platform's install). */
const BUILDPACKS = DEFAULT_BUILDPACKS;
/** The tool each example's build needs on the host. */
const TOOL: Record<string, string[]> = {
  node: ['npm'],
  python: ['python3'],
  java: ['java', 'mvn'],
  go: ['go'],
};

const run = (file: string, args: string[], cwd: string, env: Record<string, string> = {}) =>
  new Promise<{ code: number; out: string }>((resolve) =>
    execFile(file, args, { cwd, maxBuffer: 32 << 20, env: { ...process.env, ...env } }, (err, so, se) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: so + se }),
    ),
  );

describe('git push of each example app (real git, real buildpacks, real router)', function () {
  this.timeout(900_000);
  let dir: string;
  let p: Platform;
  /** Apps pushed and served on the local runtime, for the sandbox pass. */
  const served: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-git-ex-'));
    await chmod(dir, 0o755);
    await mkdir(join(dir, 'home'));
    await writeFile(
      join(dir, 'slipway.config.json'),
      JSON.stringify({ defaults: false, plugins: BUILDPACKS }),
    );
    p = await start();
  });
  // Plain processes first (the default is `auto`, sandboxed where the stack is built).
  const start = (runtime: 'local' | 'sandbox' = 'local') =>
    startPlatform({
      dataDir: join(dir, 'data'),
      routerPort: 0,
      apiPort: 0,
      configFile: join(dir, 'slipway.config.json'),
      stopGraceMs: 1000,
      runtime,
    });
  after(async () => {
    await p?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  for (const name of Object.keys(TOOL)) {
    it(`pushes examples/apps/${name} and serves it`, async function () {
      for (const tool of TOOL[name] as string[]) {
        if ((await run('which', [tool], dir)).code === 0) continue;
        const why = `examples/apps/${name}: \`${tool}\` is not installed`;
        if (process.env.CI === 'true') throw new Error(why);
        console.warn(`      SKIPPED: ${why}`);
        this.skip();
      }
      const app = `ex-${name}`;
      const r = await fetch(new URL('/apps', p.apiUrl), {
        method: 'POST',
        headers: { authorization: `Bearer ${p.token}` },
        body: JSON.stringify({ name: app }),
      });
      expect(r.status).to.equal(201);
      const repo = join(dir, name);
      await cp(join(EXAMPLES, name), repo, {
        recursive: true,
        filter: (s) => !/\/(node_modules|target|dist|__pycache__)(\/|$)/.test(s.slice(EXAMPLES.length)),
      });
      const env = { HOME: join(dir, 'home'), GIT_TERMINAL_PROMPT: '0' };
      const g = (args: string[]) =>
        run('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.com', ...args], repo, env);
      await g(['init', '-q', '-b', 'main']);
      await g(['add', '-A']);
      await g(['commit', '-q', '-m', name]);
      const t0 = Date.now();
      const pushed = await g([
        'push',
        `${p.apiUrl.replace('http://', `http://git:${p.token}@`)}/${app}.git`,
        'main',
      ]);
      expect(pushed.code, pushed.out).to.equal(0);
      expect(pushed.out).to.match(/remote: -----> .* app detected/);
      console.log(`      git push of ${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) =>
        request(
          { port: p.routerPort, host: '127.0.0.1', path: '/', headers: { host: `${app}.localhost` } },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        )
          .on('error', reject)
          .end(),
      );
      expect(answer.status, answer.body).to.equal(200);
      served.push(app);
    });
  }

  // The same slugs (no rebuild): the platform restarted on the data dir with the sandbox runtime
  // starts each formation again, now in bubblewrap in the trixie stack (sandbox/sandbox.ts).
  it('serves every example pushed above from a sandboxed dyno (same slugs, --runtime sandbox)', async function () {
    if (served.length === 0) return this.skip();
    await p.stop();
    p = await start('sandbox');
    const sandboxed = !p.warnings.some((w) => w.includes('NOT sandboxed'));
    if (!sandboxed) {
      const why = p.warnings.join('; ');
      if (process.env.CI === 'true') throw new Error(why);
      console.warn(`      SKIPPED: ${why}`);
      return this.skip();
    }
    for (const app of served) {
      let last = { status: 0, body: '' };
      for (const t0 = Date.now(); Date.now() - t0 < 90_000; await new Promise((r) => setTimeout(r, 500))) {
        last = await routed(p.routerPort, app).catch((e) => ({ status: 0, body: String(e) }));
        if (last.status === 200) break;
      }
      expect(last.status, `${app}: ${last.body}`).to.equal(200);
    }
    // A new release: its release phase (python release.py) runs as a sandboxed one-off.
    if (!served.includes('ex-python')) return;
    const api = (method: string, path: string, body?: unknown) =>
      fetch(new URL(path, p.apiUrl), {
        method,
        headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    expect((await api('PATCH', '/apps/ex-python/config-vars', { SANDBOXED: 'yes' })).status).to.equal(200);
    const releases = (await (await api('GET', '/apps/ex-python/releases')).json()) as { version: number }[];
    const v = Math.max(...releases.map((r) => r.version));
    const output = await (await api('GET', `/apps/ex-python/releases/v${v}/output`)).text();
    expect(output).to.include('release: DATABASE_URL not configured');
  });
});

function routed(port: number, app: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) =>
    request({ port, host: '127.0.0.1', path: '/', headers: { host: `${app}.localhost` } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end(),
  );
}
