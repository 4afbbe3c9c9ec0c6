/**
 * The Redis provider: one password-protected `redis-server` per add-on rather than ACL users on
 * a shared server, because `maxmemory`, eviction and persistence are per server in Redis (an ACL
 * user cannot have its own memory limit or AOF), because one app's FLUSHALL, KEYS or big values
 * must not touch another's, and because deprovision is then "stop it and delete its directory".
 * An idle instance costs a few MB of memory and starts in tens of milliseconds.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, readdir, rm } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { AddonDefinition, ProviderContext, SuperviseOptions } from '@slipway/addon-sdk';
import { connectHost, freePort } from '@slipway/addon-sdk';
import { redisErrors } from './errors.js';
import { type InstanceEnv, type InstanceMeta, RedisInstance } from './instance.js';
import { REDIS_PLANS, redisPlan } from './plans.js';

/** Plugin options of the Redis provider. */
export interface RedisOptions {
  /** Path of redis-server (default: found in PATH, /usr/bin, /usr/local/bin). */
  redisServer?: string;
  /** Address instances listen on (default 127.0.0.1). */
  listen?: string;
  /** Host put in REDIS_URL (default 127.0.0.1). */
  host?: string;
}

/** What `setup` keeps: the running instances by resource id. */
export interface RedisState {
  env: InstanceEnv;
  instances: Map<string, RedisInstance>;
  /** Why no instance can be started (redis-server missing), if so. */
  unavailable?: Error;
}

type Ctx = ProviderContext<RedisOptions, RedisState>;

/** Find redis-server, or SLIPWAY_ERR_REDIS_NO_SERVER. */
export async function findRedisServer(explicit?: string): Promise<string> {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/bin', '/usr/local/bin'];
  const candidates = explicit ? [explicit] : dirs.map((d) => join(d, 'redis-server'));
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  throw redisErrors.SLIPWAY_ERR_REDIS_NO_SERVER({ where: explicit ?? 'PATH, /usr/bin and /usr/local/bin' });
}

/**
 * The REDIS_URL of an instance (REDIS_TLS_URL, `rediss://` on the TLS port, with `tls`). The user is spelled out (`default`): redis-cli 7 sends `AUTH "" pw`
 * for `redis://:pw@…` and fails, while every client sends `AUTH default pw` correctly.
 */
export function redisUrl(meta: InstanceMeta, host: string, tls = false): string {
  const port = tls ? meta.tlsPort : meta.port;
  return `${tls ? 'rediss' : 'redis'}://default:${encodeURIComponent(meta.password)}@${host}:${port}`;
}

function instancesDir(ctx: { dataDir: string }): string {
  return join(ctx.dataDir, 'instances');
}

async function setup(ctx: ProviderContext<RedisOptions, undefined>): Promise<RedisState> {
  const instances = new Map<string, RedisInstance>();
  let redisServer: string;
  try {
    redisServer = await findRedisServer(ctx.options.redisServer);
  } catch (e) {
    // The platform still starts without Redis; each provision then fails with this coded error.
    const err = e as Error & { hint?: string };
    ctx.log.warn(`${err.message}; Redis add-ons cannot be provisioned. ${err.hint ?? ''}`);
    const env = { redisServer: '', log: ctx.log, supervise: (o: SuperviseOptions) => ctx.supervise(o) };
    return { env, instances, unavailable: err };
  }
  const env: InstanceEnv = { redisServer, log: ctx.log, supervise: (o) => ctx.supervise(o) };
  const dir = instancesDir(ctx);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // Bring back every instance that existed before the platform restarted, with its data.
  await Promise.all(
    (await readdir(dir)).map(async (id) => {
      const inst = await RedisInstance.load(join(dir, id), env);
      if (!inst) {
        ctx.log.warn(`removing the incomplete instance directory ${join(dir, id)}`);
        await rm(join(dir, id), { recursive: true, force: true });
        return;
      }
      await inst.write(redisPlan(inst.meta.plan));
      await inst.start();
      instances.set(id, inst);
    }),
  );
  return { env, instances };
}

/** The provider definition (exported for tests and for serving it over the partner API). */
export const redisDefinition: AddonDefinition<RedisOptions, RedisState> = {
  id: 'redis',
  name: 'Slipway Redis',
  plans: REDIS_PLANS.map((p) => ({
    name: p.name,
    description: p.description,
    ...(p.default ? { default: true } : {}),
    ...(p.aliases ? { aliases: p.aliases } : {}),
  })),
  // app.json files and tutorials written for Heroku name it so.
  aliases: ['heroku-redis'],
  configVars: ['REDIS_URL', 'REDIS_TLS_URL'],
  optionsSchema: {
    type: 'object',
    properties: { redisServer: { type: 'string' }, listen: { type: 'string' }, host: { type: 'string' } },
  },
  setup,
  async provision(req, ctx) {
    if (ctx.state.unavailable) throw ctx.state.unavailable;
    const id = `redis-${randomBytes(6).toString('hex')}`;
    const listen = ctx.options.listen ?? '127.0.0.1';
    const port = await freePort(connectHost(listen));
    // Two picks in a row can name the same free port; the server listens on two.
    let tlsPort = await freePort(connectHost(listen));
    while (tlsPort === port) tlsPort = await freePort(connectHost(listen));
    const meta: InstanceMeta = {
      id,
      port,
      tlsPort,
      password: ctx.secret(32),
      plan: req.plan,
      listen,
      createdAt: new Date().toISOString(),
    };
    const inst = new RedisInstance(join(instancesDir(ctx), id), meta, ctx.state.env);
    try {
      await inst.write(redisPlan(req.plan));
      await inst.start();
    } catch (e) {
      await inst.destroy();
      throw e;
    }
    ctx.state.instances.set(id, inst);
    return {
      id,
      config: {
        REDIS_URL: redisUrl(meta, ctx.options.host ?? '127.0.0.1'),
        REDIS_TLS_URL: redisUrl(meta, ctx.options.host ?? '127.0.0.1', true),
      },
      message: `Redis ${req.plan} instance on port ${meta.port}`,
    };
  },
  async planChange(req, ctx: Ctx) {
    const inst = ctx.state.instances.get(req.id);
    if (!inst) throw redisErrors.SLIPWAY_ERR_REDIS_INSTANCE_MISSING({ id: req.id, dir: instancesDir(ctx) });
    if (inst.meta.plan === req.plan) return undefined;
    // Stop (which persists), rewrite the config, start again: same port, password and data.
    await inst.stop();
    inst.meta = { ...inst.meta, plan: req.plan };
    await inst.write(redisPlan(req.plan));
    await inst.start();
    return undefined;
  },
  async deprovision(req, ctx) {
    const inst =
      ctx.state.instances.get(req.id) ??
      (await RedisInstance.load(join(instancesDir(ctx), req.id), ctx.state.env));
    ctx.state.instances.delete(req.id);
    await inst?.destroy();
  },
};
