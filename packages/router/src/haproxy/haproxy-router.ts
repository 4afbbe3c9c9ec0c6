// Over 400 lines: one haproxy's life (write, spawn, reload, sync, stop) shares its state.
/**
 * `createHaproxyRouter`: the same `Router` as `createRouter`, served by HAProxy (Debian's
 * package, 2.6 or later) instead of Node. It writes the fixed configuration, runs haproxy in
 * the foreground, and keeps it in step with the route table through the control plane. Changes
 * of apps, dynos, domains, maintenance and certificates are applied live; a new listener (or a
 * default certificate coming or going) is a reload: a new haproxy takes the ports
 * (SO_REUSEPORT), gets the whole state from the table, then the old one finishes its requests
 * and exits.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Kernel, type LogSink, logSinkRef } from '@slipway/core';
import { acmeChallengePlugin } from '../acme-challenge-plugin.js';
import { routerErrors } from '../errors.js';
import { normalizeHost } from '../host.js';
import { DEFAULT_LIMITS, DEFAULT_TIMEOUTS, type RouterLimits, type RouterTimeouts } from '../limits.js';
import type { MaintenanceState } from '../maintenance-plugin.js';
import type { RuleShape } from '../route-rules-compile.js';
import { emptyRuleMaps } from '../route-rules-haproxy.js';
import type { RouteTable } from '../route-table.js';
import { createRouter, type NodeRouter, type Router } from '../router.js';
import { type CertificateStore, type RouterTlsOptions, tlsStore } from '../tls-certificates.js';
import { HaproxyCertificates } from './certificates.js';
import { ControlPlane, type RouteListing } from './control-plane.js';
import { codeMaps, haproxyFiles, renderHaproxyConfig, slotName, statsSocketPath } from './haproxy-config.js';
import { type HaproxyLogSink, startLogSink } from './log-sink.js';
import { LUA_ACTIONS } from './lua-actions.js';
import { listenersClosed } from './soft-stop.js';
import { StatsSocket } from './stats-socket.js';

const ACME_PLUGIN = acmeChallengePlugin.name;

/** Options of `createHaproxyRouter` (the subset of `RouterOptions` HAProxy honours, and its own). */
export interface HaproxyRouterOptions {
  /** Route table, which must also list every app and custom domain. */
  table: RouteTable & RouteListing;
  baseDomain: string;
  kernel?: Kernel;
  log?: LogSink;
  timeouts?: Partial<RouterTimeouts>;
  limits?: Partial<RouterLimits>;
  tls?: RouterTlsOptions;
  /** Apps in maintenance get H80 (the `route` hook does not run in HAProxy). */
  maintenance?: MaintenanceState;
  /** The haproxy binary (default: `haproxy` on PATH, then /usr/sbin/haproxy). */
  haproxy?: string;
  /** Apps served at once (pre-declared slot backends; default 256). */
  slots?: number;
  /**
   * Directory of the configuration, socket, maps and certificates, kept across restarts so a
   * haproxy left by a killed platform is found and stopped (default: a new temp dir).
   */
  dir?: string;
  /** HAProxy threads (default: one per CPU). */
  threads?: number;
  /**
   * How often the table and rules are read again (ms, default 100); `sync()`, a change of the
   * table and the kernel's `routeRulesChanged` apply at once.
   */
  syncIntervalMs?: number;
  /** Told about data plane failures (default: a line on stderr). */
  onError?: (err: unknown) => void;
}

/** A Router served by HAProxy; `sync()` applies the route table now. */
export interface HaproxyRouter extends Router {
  sync(): Promise<void>;
  /** The running configuration's directory (maps, certificates). */
  readonly dir: string;
  /** The running haproxy's stats socket (each process has its own), while one runs. */
  readonly statsSocket: string | undefined;
}

/** The haproxy binary to run, or undefined when none is installed. */
export async function findHaproxy(explicit?: string): Promise<string | undefined> {
  for (const bin of explicit ? [explicit] : ['haproxy', '/usr/sbin/haproxy']) {
    const ok = await new Promise<boolean>((r) => execFile(bin, ['-v'], (e) => r(!e)));
    if (ok) return bin;
  }
  return undefined;
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** The pid in `file`, or 0 when there is none. */
function readPid(file: string): number {
  try {
    return Number(readFileSync(file, 'utf8')) || 0;
  } catch {
    return 0;
  }
}

/** Stop the haproxy whose pid `file` holds, if that process is still a haproxy. */
function stopLeftover(file: string): void {
  const pid = readPid(file);
  try {
    if (pid > 0 && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'haproxy')
      process.kill(pid, 'SIGTERM');
  } catch {
    // the process is gone: nothing to stop
  }
}

/** A map file's text. */
const lines = (entries: readonly string[]): string => (entries.length ? `${entries.join('\n')}\n` : '');

function waitExit(p: ChildProcess, ms: number): Promise<void> {
  return new Promise((r) => {
    if (p.exitCode !== null || p.signalCode !== null) return r();
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      r();
    }, ms);
    p.once('exit', () => {
      clearTimeout(t);
      r();
    });
  });
}

interface Instance {
  proc: ChildProcess;
  control: ControlPlane;
  stderr: string[];
  /** Its own stats socket (statsSocketPath). */
  socket: StatsSocket;
  socketPath: string;
}

/** Create a router served by HAProxy. Nothing runs until `listen`. */
export function createHaproxyRouter(options: HaproxyRouterOptions): HaproxyRouter {
  const baseDomain = normalizeHost(options.baseDomain);
  if (!baseDomain) throw routerErrors.SLIPWAY_ERR_ROUTER_BASE_DOMAIN({ domain: options.baseDomain });
  const limits: RouterLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const timeouts: RouterTimeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const log = options.log ?? options.kernel?.tryResolve(logSinkRef);
  const onError =
    options.onError ?? ((e: unknown) => console.error(`slipway router (haproxy): ${String(e)}`));
  const certificates: CertificateStore | undefined = options.tls ? tlsStore(options.tls) : undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'slipway-haproxy-'));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pidFile = join(dir, 'haproxy.pid');
  // A haproxy left behind by a platform that was killed (SIGKILL gives it no chance to stop
  // its child) would keep serving its old state on the same ports: end it first.
  if (options.dir) stopLeftover(pidFile);
  const files = haproxyFiles(dir);
  const certs =
    certificates &&
    new HaproxyCertificates(certificates, join(dir, 'certs'), files.crtList, (e) => onError(e));
  let httpAddr: AddressInfo | undefined;
  let tlsAddr: AddressInfo | undefined;
  let sink: HaproxyLogSink | undefined;
  let current: Instance | undefined;
  let timer: NodeJS.Timeout | undefined;
  let generation = 0;
  const rulesHook = options.kernel?.hooks.routeRules;
  /** Shape of the running configuration's rule block, and its key as compiled (without the Node slots). */
  let ruleShape: RuleShape | undefined;
  let ruleShapeKey: string | undefined;
  const slots = options.slots ?? 256;
  // Two more slot backends lead to the Node router (http, https): for `code` rules, and for
  // HTTP/1.0 requests (HAProxy 2.6 forwards a request in its client's version; a dyno gets 1.1).
  const node = { http: slotName(slots), https: slotName(slots + 1) };
  let inner: NodeRouter | undefined;
  const innerSockets = { http: join(dir, 'node-http.sock'), https: join(dir, 'node-https.sock') };
  /** Old haproxys soft-stopped by a reload, finishing their requests. */
  const stopping = new Set<ChildProcess>();
  const backlogs = new Map<string, number>();
  let backlogAsking = false;

  /** Start a new haproxy with the current listeners and state; the old one drains and exits. */
  const start = async (): Promise<void> => {
    const any = (httpAddr ?? tlsAddr)!;
    sink ??= await startLogSink(log, (slot) => current?.control.appOfSlot(slot));
    certs?.writeFiles();
    const mine = ++generation;
    const socketPath = statsSocketPath(dir, mine);
    const socket = new StatsSocket(socketPath);
    // The new haproxy's whole state, written where its configuration reads it at start.
    const control = new ControlPlane(socket, dir, {
      table: options.table,
      baseDomain,
      slots,
      maintenance: options.maintenance,
      drainMs: timeouts.firstByte,
      quarantineMs: timeouts.quarantine,
      rules: rulesHook,
      onError,
      inFlightPerDyno: limits.inFlightPerDyno,
    });
    const state = control.prime(current?.control);
    ruleShape = state.shape;
    ruleShapeKey = control.ruleShapeKey;
    if (ruleShape) ruleShape = { ...ruleShape, node };
    if (!inner) {
      // JS taps run in the Node router only: say so once, naming them (ACME's covers hosts no app serves).
      const taps = (options.kernel?.hooks.route.taps ?? [])
        .map((t) => t.name)
        .filter((n) => n !== ACME_PLUGIN);
      if (taps.length > 0)
        onError(
          new Error(
            `route taps of ${taps.join(', ')} run on the Node router only: on HAProxy a request reaches them ` +
              "where a route rule with action { kind: 'code' } sends it",
          ),
        );
      inner = createRouter({
        table: options.table,
        baseDomain,
        ...(options.kernel ? { kernel: options.kernel } : {}),
        ...(log ? { log } : {}),
        timeouts,
        limits,
        onError,
      });
      await inner.listenProxied(innerSockets.http, 'http');
      await inner.listenProxied(innerSockets.https, 'https');
    }
    const strict = certs !== undefined && !certs.hasDefault;
    let config = renderHaproxyConfig({
      dir,
      socket: socketPath,
      ...(httpAddr ? { http: { host: httpAddr.address, port: httpAddr.port } } : {}),
      ...(tlsAddr ? { tls: { host: tlsAddr.address, port: tlsAddr.port, crtList: files.crtList } } : {}),
      logPort: sink.port,
      slots: slots + 2,
      node,
      ...(options.threads ? { threads: options.threads } : {}),
      limits,
      timeouts,
      ...(ruleShape ? { ruleShape } : {}),
      servers: new Map([
        ...state.servers,
        [slots, [`server node unix@${innerSockets.http} send-proxy`]],
        [slots + 1, [`server node unix@${innerSockets.https} send-proxy`]],
      ]),
    });
    // Without a default certificate an unknown name gets a handshake failure, as with the Node router.
    if (strict) config = config.replace(' alpn h2,http/1.1', ' alpn h2,http/1.1 strict-sni');
    writeFileSync(files.config, config);
    for (const file of [files.hosts, files.states, ...emptyRuleMaps(dir)])
      writeFileSync(file, lines(state.maps.get(file) ?? []));
    writeFileSync(files.lua, LUA_ACTIONS);
    const maps = codeMaps();
    writeFileSync(files.descs, maps.descs);
    writeFileSync(files.pages, maps.pages);
    const bin = await findHaproxy(options.haproxy);
    if (!bin)
      throw routerErrors.SLIPWAY_ERR_ROUTER_HAPROXY_MISSING({ detail: options.haproxy ?? 'haproxy on PATH' });
    const old = current;
    // A reload takes the old haproxy's listening sockets over its stats socket (-x): one
    // socket per port throughout, where two (SO_REUSEPORT) reset what queued on the old one.
    // (Only from a live one: haproxy exits when -x finds no process to ask.)
    const handOver = old !== undefined && old.proc.exitCode === null && old.proc.signalCode === null;
    // -dMglobal: freed buffers and streams go to HAProxy's shared pool, not back to malloc. With
    // glibc that pool is off by default, and each request's 64 KB buffers went through
    // malloc/free and page faults: about 17 % of HAProxy's CPU per request (bench/router).
    const args = ['-db', '-dMglobal', '-f', files.config, ...(handOver ? ['-x', old.socketPath] : [])];
    // Sockets of haproxys gone (a killed platform's among them) are only files now.
    for (const f of readdirSync(dir))
      if (/^admin\.\d+\.sock$/.test(f) && (!handOver || join(dir, f) !== old.socketPath))
        rmSync(join(dir, f), { force: true });
    const proc = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    if (proc.pid) writeFileSync(pidFile, String(proc.pid));
    const stderr: string[] = [];
    proc.stderr!.on('data', (d: Buffer) => {
      stderr.push(...d.toString().split('\n').filter(Boolean));
      if (stderr.length > 50) stderr.splice(0, stderr.length - 50);
    });
    proc.on('exit', (code, signal) => {
      if (current?.proc === proc && mine === generation && !closing)
        onError(new Error(`haproxy exited (${code ?? signal}): ${stderr.slice(-5).join(' | ')}`));
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (proc.exitCode !== null)
        throw routerErrors.SLIPWAY_ERR_ROUTER_LISTEN({
          host: any.address,
          port: any.port,
          detail: `haproxy exited: ${stderr.slice(-8).join(' | ')}`,
        });
      const info = await socket.run('show info').catch(() => '');
      if (info.includes('Pid:') && info.includes(`Pid: ${proc.pid}`)) break;
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw routerErrors.SLIPWAY_ERR_ROUTER_LISTEN({
          host: any.address,
          port: any.port,
          detail: 'haproxy did not start in 10 s',
        });
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    current = { proc, control, stderr, socket, socketPath };
    // What changed since the files were written.
    await control.sync();
    // Soft stop: the old haproxy stops listening and exits once its requests are done.
    if (old) {
      // It keeps an idle kept-alive connection until its client's next request (or the
      // keep-alive timeout): `close` ends it if it is still there.
      stopping.add(old.proc);
      old.proc.once('exit', () => stopping.delete(old.proc));
      old.proc.kill('SIGUSR1');
      // Until then, a new connection could still reach the old configuration.
      if (old.proc.pid) await listenersClosed(old.proc.pid);
    }
    timer ??= setInterval(() => void sync().catch(onError), options.syncIntervalMs ?? 100);
    timer.unref();
  };

  let closing = false;
  // The promise tells the table's owner when HAProxy serves the change (a release switch stops
  // the old dynos only then: one still routed there would refuse requests).
  options.table.onChange?.(() => (current && !closing ? sync().catch(onError) : undefined));
  // A route plugin's state changed (a maintenance flag, an HTTPS policy, an ACME challenge):
  // apply its rules now rather than at the next poll. Announcements of one tick are one sync.
  let announced = false;
  options.kernel?.hooks.routeRulesChanged.tap('@slipway/router/haproxy', () => {
    if (announced || !current || closing) return;
    announced = true;
    setImmediate(() => {
      announced = false;
      void sync().catch(onError);
    });
  });
  let reloading: Promise<void> | undefined;
  let followUp: Promise<void> | undefined;
  /**
   * A change made while a reload runs may postdate the state the new haproxy started with: it
   * is applied once that haproxy serves (one follow-up for all the calls made meanwhile).
   */
  const afterReload = (r: Promise<void>): Promise<void> =>
    (followUp ??= r
      .catch(() => undefined)
      .then(() => {
        followUp = undefined;
        return sync();
      }));
  /**
   * Apply the table. Certificates are applied live; only a default certificate coming or going
   * is a reload (it switches strict-sni on the listener).
   */
  const sync = async (): Promise<void> => {
    if (reloading) return afterReload(reloading);
    if (!current || closing) return;
    if (certs?.stale) {
      const running = current;
      reloading = (
        certs.needsReload ? start() : certs.apply(running.socket).then(() => running.control.sync())
      ).finally(() => {
        reloading = undefined;
      });
      return reloading;
    }
    await current.control.sync();
    // A sync running meanwhile (another caller's, an announcement's) may have started the
    // reload these rules need: this one is applied only once that haproxy serves.
    if (reloading) return afterReload(reloading);
    // Rules that read a new header or cookie, or answer with a new status: a new rule block.
    const compiled = current.control.compiled;
    if (compiled && compiled.shapeKey !== ruleShapeKey && !closing) {
      reloading = start().finally(() => {
        reloading = undefined;
      });
      return reloading;
    }
  };
  const bindAddr = async (port: number, host: string): Promise<AddressInfo> => {
    const p = port === 0 ? await freePort(host) : port;
    return { address: host, port: p, family: host.includes(':') ? 'IPv6' : 'IPv4' };
  };

  return {
    dir,
    async listen(port = 0, host = '127.0.0.1') {
      httpAddr = await bindAddr(port, host);
      await start();
      return httpAddr;
    },
    async listenTls(port = 0, host = '127.0.0.1') {
      if (certificates === undefined) throw routerErrors.SLIPWAY_ERR_ROUTER_TLS_MISSING();
      tlsAddr = await bindAddr(port, host);
      await start();
      return tlsAddr;
    },
    sync,
    async close(graceMs = 0) {
      closing = true;
      if (timer) clearInterval(timer);
      // A reload under way has spawned a haproxy that is not `current` yet: once it is, it is
      // the one to stop (else it outlived the router, holding the ports).
      await reloading?.catch(() => undefined);
      const proc = current?.proc;
      const socketPath = current?.socketPath;
      if (proc) {
        proc.kill(graceMs > 0 ? 'SIGUSR1' : 'SIGTERM');
        await waitExit(proc, graceMs + 2000);
      }
      current = undefined;
      await Promise.all(
        [...stopping].map((p) => {
          if (graceMs === 0) p.kill('SIGTERM');
          return waitExit(p, graceMs + 2000);
        }),
      );
      if (socketPath) rmSync(socketPath, { force: true });
      await inner?.close(graceMs);
      inner = undefined;
      httpAddr = undefined;
      tlsAddr = undefined;
      await sink?.close();
      // The pid file is this haproxy's only while no newer platform has started in the dir.
      if (options.dir && proc && readPid(pidFile) === proc.pid) rmSync(pidFile, { force: true });
      else rmSync(dir, { recursive: true, force: true });
    },
    get address() {
      return current ? httpAddr : undefined;
    },
    get statsSocket() {
      return current?.socketPath;
    },
    get tlsAddress() {
      return current ? tlsAddr : undefined;
    },
    backlog(app) {
      // The Router's backlog is read synchronously: answer the last count HAProxy gave and ask
      // again in the background (callers poll it).
      if (current && !backlogAsking) {
        const control = current.control;
        backlogAsking = true;
        void control
          .backlog(app)
          .then((n) => backlogs.set(app, n), onError)
          .finally(() => {
            backlogAsking = false;
          });
      }
      return backlogs.get(app) ?? 0;
    },
  };
}
