// Helpers shared by the router benchmarks: processes, ports, wrk runs and CPU accounting.
import { execFile, spawn } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Path of a command on PATH, or undefined. */
export async function which(cmd) {
  try {
    return (await run('sh', ['-c', 'command -v "$1"', 'sh', cmd])).stdout.trim();
  } catch {
    return undefined;
  }
}

/** A free loopback port. */
export function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Spawn a process and wait for a `ready` line on its stdout. */
export function startReady(cmd, args) {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    proc.on('error', reject);
    proc.on('exit', (code) => reject(new Error(`${cmd} exited with ${code}`)));
    proc.stdout.on('data', (d) => {
      if (/ready/.test(String(d))) resolve(proc);
    });
  });
}

/** Wait until something accepts connections on the port. */
export async function waitPort(port) {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

/** Stop a child process and wait for its exit. */
export function stop(proc) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null) return resolve();
    proc.removeAllListeners('exit');
    proc.on('exit', () => resolve());
    proc.kill('SIGTERM');
  });
}

const toMs = (v, unit) => Number(v) * ({ us: 0.001, ms: 1, s: 1000 }[unit] ?? 1);

/**
 * One wrk run (keep-alive, 2 threads) against `url` with Host `host`; returns req/s, p50 and
 * p99 in ms, and the error count.
 */
export async function load(wrk, url, host, conns, seconds) {
  const { stdout } = await run(
    wrk,
    ['-t', '2', '-c', String(conns), '-d', `${seconds}s`, '--latency', '-H', `Host: ${host}`, url],
    { maxBuffer: 1 << 20 },
  );
  const pct = (p) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(stdout);
    return m ? toMs(m[1], m[2]) : Number.NaN;
  };
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? Number.NaN);
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? Number.NaN);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const errors = non2xx + (sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
  return { rps, requests, p50: pct(50), p99: pct(99), errors };
}

const TICK_US = 1e6 / 100; // /proc stat times are in clock ticks (USER_HZ = 100 on Linux)

/** CPU time (µs) used so far by a process and all its descendants (Linux /proc). */
export function treeCpuUs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    let us = (Number(fields[11]) + Number(fields[12])) * TICK_US; // utime + stime
    for (const tid of readdirSync(`/proc/${pid}/task`))
      for (const child of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8')
        .split(' ')
        .filter(Boolean))
        us += treeCpuUs(Number(child));
    return us;
  } catch {
    return Number.NaN;
  }
}

/**
 * Load one setup at each connection count. Besides req/s and latency, record the proxy's CPU
 * time per request: on a machine shared with other work, throughput swings with the scheduler,
 * while CPU per request says how much work each proxy does.
 */
export async function measure(wrk, setup, { connections, duration, host }) {
  const { label, url, pid } = setup;
  const out = [];
  await load(wrk, url, host, 50, 2); // warm-up: JIT, connection pools
  for (const c of connections) {
    const cpu0 = pid ? treeCpuUs(pid) : Number.NaN;
    const r = await load(wrk, url, host, c, duration);
    const cpuPerReq = pid ? (treeCpuUs(pid) - cpu0) / r.requests : Number.NaN;
    out.push({ label, conns: c, ...r, cpuPerReq });
    console.error(
      `  ${label.padEnd(16)} c=${String(c).padEnd(4)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms` +
        `${pid ? `  cpu ${cpuPerReq.toFixed(1)} µs/req` : ''}${r.errors ? `  errors ${r.errors}` : ''}`,
    );
  }
  return out;
}

/** Median of numbers. */
export const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};

/**
 * A log sink appending each line's message to `file`, buffered like nginx's
 * `access_log … buffer=64k flush=1s`, so every proxy pays the same for its log.
 */
export function bufferedLog(file) {
  const out = createWriteStream(file, { flags: 'a' });
  let lines = [];
  let bytes = 0;
  const flush = () => {
    if (lines.length) out.write(lines.join(''));
    lines = [];
    bytes = 0;
  };
  setInterval(flush, 1000).unref();
  return {
    write(l) {
      const s = `${l.message}\n`;
      lines.push(s);
      bytes += s.length;
      if (bytes >= 65536) flush();
    },
  };
}

/**
 * A kernel with the route-rule plugins `slipway start` installs (maintenance, HTTPS policy, ACME
 * challenges), none with anything to say, from the built checkout at `root`.
 */
export async function platformRulesKernel(root) {
  const { Kernel } = await import(`${root}/packages/core/dist/index.js`);
  const router = await import(`${root}/packages/router/dist/index.js`);
  const kernel = new Kernel();
  await kernel.use(router.maintenancePlugin, { state: { isInMaintenance: () => false } });
  await kernel.use(router.acmeChallengePlugin, {
    challenges: { keyAuthorization: () => undefined, challengesFor: () => [] },
  });
  await kernel.use(router.httpsPolicyPlugin, {
    source: { policy: () => undefined, covers: () => false, httpsPort: () => undefined },
  });
  return kernel;
}
