// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the boot is a shell script
/**
 * What a dyno of the Swarm runtime is: a service of one task from the stack image (a formation
 * dyno), or a container on the manager on its app's overlay (a one-off). Both boot the same way:
 * as root, fetch the release's slug (swarm-slug-server.ts) into the node's slug cache volume
 * unless it is there (the volume is shared by every app's dynos on the node and mounted in each,
 * so it is root's alone: mode 0700, archives 0600; an app reads no other app's slug there),
 * check its sha256, unpack it at /app as the app's uid, then drop to that
 * uid with no capabilities left (setpriv clears the bounding set) and run Heroku's launcher.
 *
 * Why one service per dyno and not one per process type scaled to the formation: the dyno
 * manager already does Heroku's per-dyno work (boot check on $PORT, route switch, drain, crash
 * back-off, R14/R15, `restart web.2`); a service per dyno keeps each dyno's identity and
 * address, so a deploy is still the manager's start-first handover gated by the boot check, and
 * Swarm does what it is good at: placing each task on a node, limits, and running it there.
 */
import type { DynoSpec } from '@slipway/core';
import type Docker from 'dockerode';
import { dynoContainerOptions, LAUNCHER } from './docker-container.js';
import { MEMORY_REPORTER } from './swarm-memory.js';

/** The per-node volume the slugs are cached in (each node's engine makes its own). */
export const SLUG_CACHE_VOLUME = 'slipway-slugs';
const CACHE = '/var/cache/slipway-slugs';

/**
 * Root's part of a dyno's boot ($1: the command, $2: the launcher); see the file header. An
 * attached one-off on another node first calls the platform back (swarm-rendezvous.ts,
 * `SLIPWAY_RENDEZVOUS` = host:port:secret) and makes that connection its stdio, so its boot's
 * output reaches the user too; with a terminal asked for, `script` gives the command a pty.
 */
export const BOOT = [
  'set -e',
  'u=$SLIPWAY_UID sum=$SLIPWAY_SLUG_SUM url=$SLIPWAY_SLUG_URL rv=$SLIPWAY_RENDEZVOUS pty=$SLIPWAY_PTY mem=$SLIPWAY_MEMORY_REPORT',
  'unset SLIPWAY_UID SLIPWAY_SLUG_SUM SLIPWAY_SLUG_URL SLIPWAY_RENDEZVOUS SLIPWAY_PTY SLIPWAY_MEMORY_REPORT',
  // The memory reporter (swarm-memory.ts), as nobody: the app cannot signal it or read its environment.
  'if [ -n "$mem" ]; then',
  `  SLIPWAY_M=$mem setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all bash -c '${MEMORY_REPORTER}' </dev/null >/dev/null 2>&1 &`,
  'fi',
  'if [ -n "$rv" ]; then',
  '  h=${rv%%:*} r=${rv#*:}',
  '  exec 3<>"/dev/tcp/$h/${r%%:*}"',
  '  printf "%s\\n" "${r#*:}" >&3',
  '  exec 0<&3 1>&3 2>&3 3>&-',
  'fi',
  // The cache holds every app's slugs that ran on this node: root's alone, never the app's to read.
  `chmod 700 ${CACHE}`,
  `c=${CACHE}/$sum.tgz`,
  'if [ ! -s "$c" ]; then',
  `  t=$(mktemp ${CACHE}/.fetch.XXXXXX)`,
  '  curl -fsS --retry 5 --retry-connrefused --retry-delay 1 -o "$t" "$url"',
  '  echo "$sum  $t" | sha256sum -c --status || { echo "slug $sum: checksum mismatch" >&2; rm -f "$t"; exit 1; }',
  '  mv -f "$t" "$c"',
  'fi',
  'chown "$u:$u" /app',
  // Root opens the archive (mode 0600), the app's uid unpacks it.
  'setpriv --reuid="$u" --regid="$u" --clear-groups tar xzf - -C /app < "$c"',
  'drop="setpriv --reuid=$u --regid=$u --clear-groups --inh-caps=-all --bounding-set=-all"',
  'if [ -n "$pty" ]; then',
  '  export SLIPWAY_L="$2" SLIPWAY_C="$1"',
  '  exec $drop script -qefc \'L=$SLIPWAY_L C=$SLIPWAY_C; unset SLIPWAY_L SLIPWAY_C; exec bash -c "$L" slipway-dyno "$C"\' /dev/null',
  'fi',
  'exec $drop bash -c "$2" slipway-dyno "$1"',
].join('\n');

/** What root needs for the boot and nothing else; all of it is dropped before the app runs. */
export const BOOT_CAPS = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FOWNER',
  'CAP_SETUID',
  'CAP_SETGID',
  'CAP_SETPCAP',
];

/** The environment every Swarm dyno boots with (the boot script removes the SLIPWAY_ part). */
export function bootEnv(
  spec: DynoSpec,
  dyno: string,
  port: number | undefined,
  uid: number,
  slugUrl: string,
) {
  return {
    HOME: '/app',
    ...spec.env,
    DYNO: dyno,
    ...(port !== undefined ? { PORT: String(port) } : {}),
    SLIPWAY_UID: String(uid),
    SLIPWAY_SLUG_SUM: spec.slug.checksum.replace(/^sha256:/, ''),
    SLIPWAY_SLUG_URL: slugUrl,
  };
}

/** Input of `dynoServiceSpec`. */
export interface DynoServiceInput {
  spec: DynoSpec;
  name: string;
  stackImage: string;
  env: Record<string, string>;
  labels: Record<string, string>;
  stopGraceMs: number;
  /** The app's overlay network (swarm-app-networks.ts). */
  network: string;
  /** Placement constraints (`node.id==…`), for one-offs on a chosen node. */
  constraints?: string[];
}

/**
 * The engine's service spec of a dyno: one replica that Swarm does not restart (the dyno
 * manager restarts crashed dynos on Heroku's schedule, and on a lost node), memory at twice the
 * quota and CPUs by size, on the overlay with no VIP (the router balances, not Swarm).
 */
export function dynoServiceSpec(o: DynoServiceInput): Docker.CreateServiceOptions {
  const quotaBytes = o.spec.size.memoryMb * 1024 * 1024;
  return {
    Name: o.name,
    Labels: o.labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: o.stackImage,
        Command: ['/usr/bin/tini', '-g', '-s', '--'],
        Args: ['bash', '-c', BOOT, 'slipway-boot', o.spec.command, LAUNCHER],
        Env: Object.entries(o.env).map(([k, v]) => `${k}=${v}`),
        Dir: '/app',
        User: '0',
        Labels: o.labels,
        StopGracePeriod: o.stopGraceMs * 1e6,
        Mounts: [{ Type: 'volume', Source: SLUG_CACHE_VOLUME, Target: CACHE }],
        CapabilityDrop: ['ALL'],
        CapabilityAdd: BOOT_CAPS,
      } as Docker.ContainerSpec,
      Resources: {
        Limits: {
          MemoryBytes: 2 * quotaBytes,
          NanoCPUs: Math.round(Math.max(0.5, o.spec.size.memoryMb / 512) * 1e9),
        },
      },
      RestartPolicy: { Condition: 'none' },
      Placement: { Constraints: o.constraints ?? [] },
      Networks: [{ Target: o.network }],
    },
    Mode: { Replicated: { Replicas: 1 } },
    EndpointSpec: { Mode: 'dnsrr' },
  };
}

/** Input of `oneOffContainerOptions`. */
export interface OneOffContainerInput {
  spec: DynoSpec;
  dyno: string;
  attach: { tty?: { columns: number; rows: number } } | undefined;
  uid: number;
  labels: Record<string, string>;
  name: string;
  image: string;
  slugUrl: string;
  /** The app's overlay network. */
  network: string;
}

/**
 * A one-off dyno as a container on the manager: the Docker runtime's container (attach, TTY,
 * limits, labels) with the swarm boot (root, the boot capabilities, the slug cache volume) on
 * its app's overlay.
 */
export function oneOffContainerOptions(o: OneOffContainerInput): Docker.ContainerCreateOptions {
  const base = dynoContainerOptions({ ...o, port: undefined, key: undefined });
  const env: Record<string, string> = bootEnv(o.spec, o.dyno, undefined, o.uid, o.slugUrl);
  if (o.attach?.tty) env.SLIPWAY_TTY_SIZE = `rows ${o.attach.tty.rows} cols ${o.attach.tty.columns}`;
  return {
    ...base,
    Image: o.image,
    User: '0',
    Cmd: ['bash', '-c', BOOT, 'slipway-boot', o.spec.command, LAUNCHER],
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    HostConfig: {
      ...base.HostConfig,
      NetworkMode: o.network,
      CapAdd: BOOT_CAPS,
      Mounts: [{ Type: 'volume', Source: SLUG_CACHE_VOLUME, Target: CACHE }],
    },
  };
}
