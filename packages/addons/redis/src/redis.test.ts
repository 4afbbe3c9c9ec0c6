import { execFile } from 'node:child_process';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  type AddonPlugin,
  type AddonServer,
  defineAddon,
  describeConformance,
  isAddonPlugin,
  Kernel,
  type ProvisionRequest,
  type ProvisionResult,
  serveAddon,
} from '@slipway/addon-sdk';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import plugin, { findRedisServer, type RedisOptions, type RedisState, redisDefinition } from './index.js';

const run = promisify(execFile);

/** Skip (loudly) where redis-server is not installed; fail in CI, which installs it. */
async function requireRedis(ctx: Mocha.Context): Promise<void> {
  if (await findRedisServer().catch(() => undefined)) return;
  const why = 'redis-server is not installed (Debian: apt-get install redis-server)';
  if (process.env.CI === 'true') throw new Error(why);
  console.warn(`\n  !!! SKIPPING Redis add-on tests: ${why}\n`);
  ctx.skip();
}

function req(uuid: string, app: string, extra: Partial<ProvisionRequest> = {}): ProvisionRequest {
  return { service: 'redis', plan: 'mini', uuid, app, name: '', options: {}, ...extra };
}

/** An ioredis client that fails fast instead of retrying forever. */
function client(url: string): Redis {
  return new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 3000,
  });
}

async function withClient<T>(url: string, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = client(url);
  // ioredis reports an AUTH failure as an 'error' event and then "Connection is closed."; keep the first.
  let first: Error | undefined;
  r.on('error', (e) => {
    first ??= e;
  });
  try {
    await r.connect();
    return await fn(r);
  } catch (e) {
    throw first ?? e;
  } finally {
    r.disconnect();
  }
}

/** `INFO section` as a map. */
async function info(url: string, section: string): Promise<Record<string, string>> {
  const text = await withClient(url, (r) => r.info(section));
  return Object.fromEntries(
    text
      .split('\r\n')
      .filter((l) => l.includes(':'))
      .map((l) => l.split(':') as [string, string]),
  );
}

async function redisCli(url: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['--no-auth-warning', '-u', url, ...args]);
  return stdout.trim();
}

function withPassword(url: string, password: string): string {
  const u = new URL(url);
  u.password = password;
  return u.toString();
}

describe('addon-redis', function () {
  this.timeout(60_000);
  let dataDir: string;
  let logs: string[];
  let provider: AddonPlugin<RedisOptions, RedisState>;
  let kernel: Kernel;
  let a: ProvisionResult;
  let b: ProvisionResult;

  const newKernel = async () => {
    provider = defineAddon(redisDefinition, { log: (level, m) => logs.push(`${level}: ${m}`) });
    kernel = new Kernel();
    await kernel.use(provider, { dataDir });
    await kernel.start();
  };

  before(async function () {
    await requireRedis(this);
    dataDir = await mkdtemp(join(tmpdir(), 'slipway-redis-test-'));
    logs = [];
    await newKernel();
    a = (await kernel.hooks.provision.for('redis').promise(req('uuid-a', 'app-a')))!;
    b = (await kernel.hooks.provision
      .for('redis')
      .promise(req('uuid-b', 'app-b', { plan: 'cache', name: 'cache' })))!;
  });

  after(async () => {
    await provider?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('exports a defineAddon plugin; REDIS_URL and REDIS_TLS_URL follow the attachment name', () => {
    expect(isAddonPlugin(plugin)).to.equal(true);
    expect(Object.keys(a.config)).to.deep.equal(['REDIS_URL', 'REDIS_TLS_URL']);
    expect(Object.keys(b.config)).to.deep.equal(['CACHE_URL', 'CACHE_TLS_URL']);
    expect(a.config.REDIS_TLS_URL).to.match(/^rediss:\/\/default:[^@]{30,}@127\.0\.0\.1:\d+$/);
    expect(a.config.REDIS_URL).to.match(/^redis:\/\/default:[^@]{30,}@127\.0\.0\.1:\d+$/);
  });

  it('ioredis over TLS sets and reads with REDIS_TLS_URL, as Heroku Redis clients do (no verification)', async () => {
    const r = new Redis(a.config.REDIS_TLS_URL!, { tls: { rejectUnauthorized: false }, lazyConnect: true });
    try {
      await r.connect();
      expect(await r.set('tls', 'yes')).to.equal('OK');
      expect(await r.get('tls')).to.equal('yes');
    } finally {
      r.disconnect();
    }
    expect(await withClient(a.config.REDIS_URL!, (c) => c.get('tls'))).to.equal('yes');
  });

  it('ioredis sets and reads with REDIS_URL', async () => {
    await withClient(a.config.REDIS_URL!, async (r) => {
      await r.set('greeting', 'hello');
      await r.rpush('queue', 'x', 'y');
      expect(await r.get('greeting')).to.equal('hello');
      expect(await r.lrange('queue', 0, -1)).to.deep.equal(['x', 'y']);
    });
  });

  it('redis-cli sets and reads with REDIS_URL', async () => {
    expect(await redisCli(a.config.REDIS_URL!, 'SET', 'cli', '42')).to.equal('OK');
    expect(await redisCli(a.config.REDIS_URL!, 'INCR', 'cli')).to.equal('43');
    expect(await redisCli(a.config.REDIS_URL!, 'GET', 'greeting')).to.equal('hello');
  });

  it('refuses a wrong password and no password (ioredis and redis-cli)', async () => {
    const wrong = withPassword(a.config.REDIS_URL!, 'wrong-password');
    const err = await withClient(wrong, (r) => r.get('greeting')).catch((e) => e);
    expect(String(err?.message)).to.match(/WRONGPASS|invalid username-password/);
    expect(await redisCli(wrong, 'GET', 'greeting').catch((e) => String(e.stdout ?? e))).to.match(
      /WRONGPASS|AUTH failed|NOAUTH/,
    );
    const port = new URL(a.config.REDIS_URL!).port;
    expect(await redisCli(`redis://127.0.0.1:${port}`, 'GET', 'greeting')).to.match(/NOAUTH/);
  });

  it("one add-on's password cannot open another add-on's Redis", async () => {
    const aPass = decodeURIComponent(new URL(a.config.REDIS_URL!).password);
    const err = await withClient(withPassword(b.config.CACHE_URL!, aPass), (r) => r.ping()).catch((e) => e);
    expect(String(err?.message)).to.match(/WRONGPASS|invalid username-password/);
    expect(await withClient(b.config.CACHE_URL!, (r) => r.get('greeting'))).to.equal(null);
  });

  it('applies maxmemory and persistence per plan', async () => {
    const memA = await info(a.config.REDIS_URL!, 'memory');
    const memB = await info(b.config.CACHE_URL!, 'memory');
    expect(memA.maxmemory).to.equal(String(25 * 1024 * 1024));
    expect(memA.maxmemory_policy).to.equal('noeviction');
    expect(memB.maxmemory).to.equal(String(64 * 1024 * 1024));
    expect(memB.maxmemory_policy).to.equal('allkeys-lru');
    expect((await info(a.config.REDIS_URL!, 'persistence')).aof_enabled).to.equal('1');
    expect((await info(b.config.CACHE_URL!, 'persistence')).aof_enabled).to.equal('0');
  });

  it('refuses CONFIG, so an app cannot make its server write files elsewhere', async () => {
    const err: Error = await withClient(a.config.REDIS_URL!, (r) =>
      r.call('CONFIG', 'SET', 'dir', '/tmp'),
    ).then(
      () => new Error('CONFIG SET succeeded'),
      (e) => e,
    );
    expect(err.message).to.match(/unknown command/);
  });

  it('never logs a password', () => {
    const all = logs.join('\n');
    expect(all.length).to.be.greaterThan(0);
    for (const url of [a.config.REDIS_URL!, b.config.CACHE_URL!])
      expect(all).not.to.include(decodeURIComponent(new URL(url).password));
  });

  it('a plan change keeps the URL and the data and applies the new limits', async () => {
    const r = await kernel.hooks.planChange
      .for('redis')
      .promise({ service: 'redis', uuid: 'uuid-a', app: 'app-a', id: a.id, plan: 'premium' });
    expect(r!.config).to.deep.equal(a.config);
    expect((await info(a.config.REDIS_URL!, 'memory')).maxmemory).to.equal(String(256 * 1024 * 1024));
    expect(await withClient(a.config.REDIS_URL!, (c) => c.get('greeting'))).to.equal('hello');
  });

  it('a crashed server is restarted by the supervisor with its data (AOF)', async () => {
    await withClient(a.config.REDIS_URL!, (r) => r.set('before-crash', 'kept'));
    const pidFile = join(dataDir, 'addons', 'redis', 'instances', a.id, 'redis.pid');
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + 20_000;
    let value: string | null = null;
    while (Date.now() < deadline) {
      value = await withClient(a.config.REDIS_URL!, (r) => r.get('before-crash')).catch(() => null);
      if (value) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(value).to.equal('kept');
    expect(Number((await readFile(pidFile, 'utf8')).trim())).not.to.equal(pid);
  });

  it('platform restart brings the instances back with their data', async () => {
    await provider.close();
    const down = await withClient(a.config.REDIS_URL!, (r) => r.ping()).catch((e) => e);
    expect(String((down as Error)?.message ?? down)).to.match(/ECONNREFUSED|closed|Connection/i);
    await newKernel();
    expect(await withClient(a.config.REDIS_URL!, (r) => r.get('greeting'))).to.equal('hello');
    expect(await withClient(a.config.REDIS_URL!, (r) => r.lrange('queue', 0, -1))).to.deep.equal(['x', 'y']);
    expect((await info(a.config.REDIS_URL!, 'memory')).maxmemory).to.equal(String(256 * 1024 * 1024));
  });

  it('deprovision stops the server and removes its data; a second one is a no-op', async () => {
    const dreq = { service: 'redis', uuid: 'uuid-b', app: 'app-b', id: b.id };
    await kernel.hooks.deprovision.for('redis').promise(dreq);
    const err = await withClient(b.config.CACHE_URL!, (r) => r.ping()).catch((e) => e);
    expect(String(err?.message ?? err)).to.match(/ECONNREFUSED|closed|Connection/i);
    const gone = await access(join(dataDir, 'addons', 'redis', 'instances', b.id)).catch((e) => e);
    expect(gone?.code).to.equal('ENOENT');
    await kernel.hooks.deprovision.for('redis').promise(dreq);
  });

  it('rejects an unknown plan with a coded error', async () => {
    const err = await kernel.hooks.provision
      .for('redis')
      .promise(req('uuid-x', 'app-x', { plan: 'huge' }))
      .catch((e) => e);
    expect(err.code).to.equal('SLIPWAY_ERR_ADDON_PLAN_UNKNOWN');
  });

  it('without redis-server the platform still starts; a provision fails with a coded error', async () => {
    const err = await findRedisServer('/nonexistent/redis-server').catch((e) => e);
    expect(err.code).to.equal('SLIPWAY_ERR_REDIS_NO_SERVER');
    expect(err.hint).to.include('apt-get install redis-server');
    const k = new Kernel();
    const seen: string[] = [];
    const p = defineAddon(redisDefinition, { log: (_l, m) => seen.push(m) });
    const dir = await mkdtemp(join(tmpdir(), 'slipway-redis-noserver-'));
    try {
      await k.use(p, { dataDir: dir, redisServer: '/nonexistent/redis-server' });
      await k.start();
      expect(seen.join('\n')).to.include('cannot be provisioned');
      const e = await k.hooks.provision
        .for('redis')
        .promise(req('uuid-n', 'app-n'))
        .catch((x) => x);
      expect(e.code).to.equal('SLIPWAY_ERR_REDIS_NO_SERVER');
      expect(e.plugin).to.equal('addon-redis');
    } finally {
      await p.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  describeConformance(() => plugin, { title: 'conformance kit' });

  describe('served over the Heroku partner API', () => {
    let server: AddonServer | undefined;
    let remoteDir: string;
    const password = 'partner-api-password-for-tests';
    after(async () => {
      await server?.close();
      if (remoteDir) await rm(remoteDir, { recursive: true, force: true });
    });
    describeConformance(
      async () => {
        remoteDir = await mkdtemp(join(tmpdir(), 'slipway-redis-remote-'));
        server = await serveAddon(plugin, { dataDir: remoteDir, password, log: () => {} });
        return { url: server.url, manifest: plugin.manifest, password };
      },
      { title: 'conformance kit (remote, over HTTP)', kind: 'remote' },
    );
  });
});
