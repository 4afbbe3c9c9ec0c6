/**
 * R14 and R15 for Swarm dynos on every node. The manager's engine cannot read the cgroups of a
 * task on another node, so each dyno reports its own memory use: its boot starts a small
 * reporter (as `nobody`, no capabilities, so the app can neither signal it nor read its secret)
 * that connects back to the platform through the rendezvous (swarm-rendezvous.ts) and writes
 * its container's cgroup usage every 5 s, as the Docker runtime samples its containers. Usage
 * above the quota is R14 (the dyno manager logs it). The limit (twice the quota) is the
 * kernel's: it kills the dyno there, and a task's status does not say why it was SIGKILLed, so a
 * dyno SIGKILLed by nobody of the platform while its last sample was over quota counts as
 * killed for memory: R15 (growing from the quota to twice it can take less than a sample's
 * interval). A dyno adopted after a platform restart reported to the earlier process: it has no
 * R14 until it is replaced.
 */
import type { Socket } from 'node:net';
import type { Rendezvous } from './swarm-rendezvous.js';

/** The reporter the boot script starts (bash; `SLIPWAY_M` = host:port:secret). */
export const MEMORY_REPORTER = [
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax, not a JS template
  'h=${SLIPWAY_M%%:*} r=${SLIPWAY_M#*:}; unset SLIPWAY_M',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax, not a JS template
  'exec 4<>"/dev/tcp/$h/${r%%:*}" || exit 0',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax, not a JS template
  'printf "%s\\n" "${r#*:}" >&4',
  'f=/sys/fs/cgroup/memory.current; [ -r $f ] || f=/sys/fs/cgroup/memory/memory.usage_in_bytes',
  'while read -r u < $f && printf "%s\\n" "$u" >&4; do sleep 5; done',
].join('\n');

/** Memory reports of dynos, through the rendezvous. */
export class MemoryReports {
  constructor(
    private readonly rendezvous: Rendezvous,
    /** How long a dyno may take to call back (its placement and boot). */
    private readonly waitMs: number,
  ) {}

  /** The env that makes a dyno report, and `follow` to read its reports once it is tracked. */
  ask(): { env: Record<string, string>; follow(onSample: (bytes: number) => void): () => void } {
    const call = this.rendezvous.expect(this.waitMs);
    return {
      env: { SLIPWAY_MEMORY_REPORT: `${this.rendezvous.address}:${call.secret}` },
      follow: (onSample) => {
        let socket: Socket | undefined;
        let stopped = false;
        call.socket.then(
          (s) => {
            socket = s;
            if (stopped) return void s.destroy();
            s.on('error', () => {});
            let buf = '';
            s.setEncoding('utf8');
            s.on('data', (c: string) => {
              buf += c;
              // A line is a number of bytes; anything else ends the reports.
              for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
                const line = buf.slice(0, nl);
                buf = buf.slice(nl + 1);
                if (!/^\d{1,15}$/.test(line)) return void s.destroy();
                onSample(Number(line));
              }
              if (buf.length > 32) s.destroy();
            });
            // The rendezvous hands the connection over paused.
            s.resume();
          },
          () => {},
        );
        return () => {
          stopped = true;
          socket?.destroy();
          call.cancel(new Error('the dyno ended'));
        };
      },
    };
  }
}

/** R15: a dyno SIGKILLed (137) that the platform did not stop, its last sample over its quota. */
export function killedForMemory(
  status: number,
  stopping: boolean,
  lastBytes: number | undefined,
  quotaBytes: number,
): boolean {
  return status === 137 && !stopping && lastBytes !== undefined && lastBytes > quotaBytes;
}
