/**
 * The boot check of a web dyno: it must accept TCP connections on its port, then (when the
 * app declares one) answer its healthcheck path with 2xx, before the router may use it.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { type Clock, systemClock } from '@slipway/core';

/** Why a boot check ended. */
export type BootResult =
  | { ok: true }
  | { ok: false; kind: 'timeout' | 'exited' | 'healthcheck'; detail: string };

/** Options of one boot check. */
export interface BootCheckOptions {
  host: string;
  port: number;
  /** Absolute deadline (epoch ms, on `clock`). */
  deadline: number;
  /** The time source of the deadline and the pauses; default the system's. */
  clock?: Clock;
  /** True once the dyno has exited: the check stops at once. */
  exited: () => boolean;
  healthcheck?: { path: string; timeoutMs?: number };
  /**
   * Pause between attempts. Default: 20 ms for the first 2 s (most apps bind within that, and a
   * refused local connect costs microseconds; a release waits for this), then 100 ms; longer
   * while many checks run at once (see `checksInFlight`).
   */
  intervalMs?: number;
}

/** Boot checks running now, in this process: their polls share one budget. */
let checksInFlight = 0;

/**
 * The pause of one check while `n` run at once: a refused connect costs the platform ~60–90 µs of
 * CPU, and 100 dynos booting together at 20 ms each would spend 5,000 of them a second on a
 * machine whose CPU the booting apps need; past 8 checks the pause grows with their number
 * (2.5 ms each, at most 250 ms), so all of them together poll ~400 times a second.
 */
export function sharedInterval(base: number, n: number): number {
  return Math.max(base, Math.min(250, 2.5 * n));
}

/** Whether something accepts a TCP connection at host:port now. */
export function canConnect(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** GET http://host:port/path; resolves with the status code, or an error text. */
export function httpStatus(
  host: string,
  port: number,
  path: string,
  timeoutMs: number,
): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request(
      {
        host,
        port,
        path,
        method: 'GET',
        timeout: timeoutMs,
        headers: { 'user-agent': 'slipway-healthcheck' },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.once('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.once('error', (e) => resolve(e.message));
    req.end();
  });
}

/** Wait until the dyno binds its port (and passes the healthcheck), it exits, or the deadline passes. */
export async function bootCheck(o: BootCheckOptions): Promise<BootResult> {
  const clock = o.clock ?? systemClock;
  const sleep = (ms: number) => new Promise<void>((r) => clock.setTimeout(r, ms));
  const started = clock.now();
  const interval = () =>
    o.intervalMs ?? sharedInterval(clock.now() - started < 2000 ? 20 : 100, checksInFlight);
  checksInFlight++;
  try {
    return await poll(o, clock, sleep, interval);
  } finally {
    checksInFlight--;
  }
}

/** The check's loops: the port, then the healthcheck, each pausing `interval()` between tries. */
async function poll(
  o: BootCheckOptions,
  clock: Clock,
  sleep: (ms: number) => Promise<void>,
  interval: () => number,
): Promise<BootResult> {
  for (;;) {
    if (o.exited()) return { ok: false, kind: 'exited', detail: 'exited while booting' };
    if (await canConnect(o.host, o.port, Math.max(1, Math.min(1000, o.deadline - clock.now())))) break;
    if (clock.now() >= o.deadline) return { ok: false, kind: 'timeout', detail: 'did not bind $PORT' };
    await sleep(Math.min(interval(), Math.max(0, o.deadline - clock.now())));
  }
  if (!o.healthcheck) return { ok: true };
  const hc = o.healthcheck;
  const hcDeadline =
    hc.timeoutMs !== undefined ? Math.min(o.deadline, clock.now() + hc.timeoutMs) : o.deadline;
  let last: number | string = 'no answer';
  for (;;) {
    if (o.exited()) return { ok: false, kind: 'exited', detail: 'exited during the healthcheck' };
    last = await httpStatus(o.host, o.port, hc.path, Math.max(1, Math.min(5000, hcDeadline - clock.now())));
    if (typeof last === 'number' && last >= 200 && last < 300) return { ok: true };
    if (clock.now() >= hcDeadline)
      return { ok: false, kind: 'healthcheck', detail: typeof last === 'number' ? `status ${last}` : last };
    await sleep(Math.min(interval(), Math.max(0, hcDeadline - clock.now())));
  }
}
