/**
 * Test support for the Docker runtime tests: whether a real engine and the stack image are
 * there (a test without them fails under CI=true and is skipped loudly elsewhere), and the
 * containers and slug images a test platform leaves behind.
 */
import { createHash } from 'node:crypto';
import type { DynoHandle } from '@slipway/core';
import { DEFAULT_STACK } from '../stack/stack-packages.js';
import { DYNO_NETWORK } from './docker-runtime.js';

/** Why the Docker tests cannot run here, or undefined when they can. */
export async function dockerUnavailable(): Promise<string | undefined> {
  const { default: Docker } = await import('dockerode');
  const docker = new Docker();
  try {
    await docker.ping();
  } catch (e) {
    return `no Docker engine answers (${(e as Error).message}); .ci/run starts dockerd`;
  }
  try {
    await docker.getImage(`slipway/stack:${DEFAULT_STACK}`).inspect();
  } catch {
    return `stack image slipway/stack:${DEFAULT_STACK} is missing; build it with \`slipway stack:build\``;
  }
  return undefined;
}

/** Skip the suite loudly (or fail under CI=true) when Docker cannot run. */
export async function requireDocker(ctx: Mocha.Context, suite: string): Promise<void> {
  const why = await dockerUnavailable();
  if (!why) return;
  if (process.env.CI === 'true') throw new Error(`${suite}: ${why}`);
  console.warn(`\n  !!! SKIPPED ${suite}: ${why}\n`);
  ctx.skip();
}

/** Remove every container and slug image of the platform whose data dir is `dataDir`. */
export async function removePlatformContainers(dataDir: string): Promise<void> {
  const { default: Docker } = await import('dockerode');
  const docker = new Docker();
  const id = createHash('sha256').update(dataDir).digest('hex').slice(0, 16);
  const cs = await docker.listContainers({ all: true, filters: { label: [`slipway.platform=${id}`] } });
  await Promise.all(
    cs.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => {}),
    ),
  );
}

/** Running dyno containers of `app` on the platform of `dataDir`: their ids. */
export async function appContainers(dataDir: string, app: string): Promise<string[]> {
  const { default: Docker } = await import('dockerode');
  const docker = new Docker();
  const id = createHash('sha256').update(dataDir).digest('hex').slice(0, 16);
  const cs = await docker.listContainers({
    filters: { label: [`slipway.platform=${id}`, `slipway.app=${app}`, 'slipway.role=dyno'] },
  });
  return cs.map((c) => c.Id).sort();
}

/** Where the router reaches `app`'s running web dynos (their app's address, their port). */
export async function appDynoAddresses(
  dataDir: string,
  app: string,
): Promise<{ host: string; port: number }[]> {
  const { default: Docker } = await import('dockerode');
  const docker = new Docker();
  const id = createHash('sha256').update(dataDir).digest('hex').slice(0, 16);
  const cs = await docker.listContainers({
    filters: { label: [`slipway.platform=${id}`, `slipway.app=${app}`, 'slipway.type=web'] },
  });
  return cs.map((c) => ({
    // A dyno in its app's network namespace has no address of its own: its app's is on a label.
    host: Object.values(c.NetworkSettings.Networks)[0]?.IPAddress || (c.Labels['slipway.host'] ?? ''),
    port: Number(c.Labels['slipway.port']),
  }));
}

/** The gateway address(es) of the dyno network: where dynos reach the host's add-on servers. */
export async function dynoGateways(): Promise<string[]> {
  const { default: Docker } = await import('dockerode');
  const info = await new Docker().getNetwork(DYNO_NETWORK).inspect();
  return (info.IPAM?.Config ?? []).map((c: { Gateway?: string }) => c.Gateway ?? '');
}

/** GET a dyno's path at its address: the body, or undefined when it does not answer in 3 s. */
export async function dynoGet(h: DynoHandle, path = '/'): Promise<string | undefined> {
  try {
    const r = await fetch(`http://${h.host}:${h.port}${path}`, { signal: AbortSignal.timeout(3000) });
    return await r.text();
  } catch {
    return undefined;
  }
}
