/**
 * Which OCI runtime the Docker runtime's containers use. `crun` (Debian's package, registered
 * with the engine by scripts/stack-setup) creates and starts a container in less time and memory
 * than `runc`; it is used when the engine lists it and one container of the stack image runs
 * with it here. crun 1.8 refuses hosts whose cgroup v2 hierarchy holds controllers next to v1
 * ones ("cgroups in hybrid mode not supported"), so being listed is not enough: the probe
 * decides, once per engine and stack image in a process. Otherwise the engine's default (runc).
 */
import type Docker from 'dockerode';
import { stackErrors } from '../stack/errors.js';

/** What was chosen, and why when it is not crun. */
export interface OciRuntimeChoice {
  /** The runtime name for `HostConfig.Runtime`; undefined: the engine's default. */
  name: string | undefined;
  /** Why crun is not used, when the engine lists it (for the platform's log). */
  note?: string;
}

const probes = new Map<string, Promise<OciRuntimeChoice>>();

/**
 * `wanted`: a runtime name the engine must list (used without a probe), or `auto` (default):
 * crun when the engine lists it and a probe container runs with it, else the engine's default.
 */
export async function chooseOciRuntime(
  docker: Docker,
  image: string,
  wanted: string = 'auto',
): Promise<OciRuntimeChoice> {
  const info = (await docker.info()) as { ID?: string; Runtimes?: Record<string, unknown> };
  const listed = Object.keys(info.Runtimes ?? {});
  if (wanted !== 'auto') {
    if (!listed.includes(wanted))
      throw stackErrors.SLIPWAY_ERR_STACK_OCI_RUNTIME({ name: wanted, listed: listed.join(', ') });
    return { name: wanted };
  }
  if (!listed.includes('crun')) return { name: undefined };
  const key = `${info.ID}|${image}`;
  let p = probes.get(key);
  if (!p) {
    p = probe(docker, image);
    probes.set(key, p);
  }
  return p;
}

async function probe(docker: Docker, image: string): Promise<OciRuntimeChoice> {
  let c: Docker.Container | undefined;
  try {
    c = await docker.createContainer({
      Image: image,
      Cmd: ['true'],
      Labels: { 'slipway.role': 'probe' },
      HostConfig: { Runtime: 'crun', NetworkMode: 'none', LogConfig: { Type: 'none', Config: {} } },
    });
    await c.start();
    const { StatusCode } = (await c.wait()) as { StatusCode: number };
    if (StatusCode !== 0) throw new Error(`a probe container exited with ${StatusCode}`);
    return { name: 'crun' };
  } catch (e) {
    return {
      name: undefined,
      note: `crun is registered with the engine but cannot run containers here, using runc: ${(e as Error).message}`,
    };
  } finally {
    await c?.remove({ force: true }).catch(() => {});
  }
}
