// CPU seconds spent during a measurement, split by who spent them: the Docker engine (dockerd,
// containerd and the containerd shims), the platform's containers (their cpuacct cgroups, cgroup
// v1), this process (the platform runs in it), and the whole machine (every process, others'
// work on a shared machine included). On a 2-core machine the sum bounds how fast N dynos can
// start: 100 dynos costing 60 CPU-s cannot be up in less than 30 s.
import { readdir, readFile } from 'node:fs/promises';

const TICK = 100; // USER_HZ: /proc times are in clock ticks of 1/100 s on Linux

/** CPU seconds of every process whose command line matches `re`, with its reaped children's. */
async function processCpu(re) {
  let s = 0;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (!re.test(cmd.replaceAll('\0', ' '))) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Its own time and its reaped children's (runc, the shim's short-lived start process).
    s += (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / TICK;
  }
  return s;
}

/** CPU seconds of the docker containers carrying `label=value` (cgroup v1 cpuacct). */
async function containersCpu(docker, label) {
  if (!docker) return 0;
  let ns = 0;
  for (const c of await docker.listContainers({ all: true, filters: { label: [label] } })) {
    const v = await readFile(`/sys/fs/cgroup/cpuacct/docker/${c.Id}/cpuacct.usage`, 'utf8').catch(() => '0');
    ns += Number(v);
  }
  return ns / 1e9;
}

/** Every CPU's busy time (s) since boot, from /proc/stat. */
async function machineCpu() {
  const [cpu] = (await readFile('/proc/stat', 'utf8')).split('\n');
  const [user, nice, system, , , irq, softirq, steal] = cpu.split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + steal) / TICK;
}

/**
 * A snapshot now; `end()` of it gives the CPU seconds since, by part. The containers' part is
 * read at the end (containers started during the measurement have no earlier count).
 */
export async function cpuSplit({ docker, label } = {}) {
  // The default engine only (not a second dockerd a Swarm test runs): its daemon, its containerd
  // and the shims that containerd started.
  const engineRe =
    /^(dockerd ?|containerd --config \/var\/run\/docker\/.*|\/usr\/bin\/containerd-shim-runc-v2 .*-address \/var\/run\/docker\/containerd\/.*)$/;
  const at0 = { engine: await processCpu(engineRe), machine: await machineCpu(), self: process.cpuUsage() };
  return {
    async end() {
      const self = process.cpuUsage(at0.self);
      return {
        engine: (await processCpu(engineRe)) - at0.engine,
        containers: await containersCpu(docker, label),
        platform: (self.user + self.system) / 1e6,
        machine: (await machineCpu()) - at0.machine,
      };
    },
  };
}

/** `engine 12.3 s, containers 20.1 s, platform 5.0 s, machine 80.2 s`. */
export function formatCpu(c) {
  return Object.entries(c)
    .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
    .join(', ');
}
