/**
 * Waiting out an old haproxy's listeners after a reload. Both processes listen on the same
 * ports (SO_REUSEPORT) until the old one handles its soft-stop signal, and the kernel spreads
 * new connections over both: a request right after a reload could still meet the old
 * configuration. The old process is done listening when none of its sockets is a listening
 * one in /proc/net/tcp{,6}.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Inodes of the sockets `pid` holds (empty once it is gone). */
function socketInodes(pid: number): Set<string> {
  const out = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) out.add(m[1]!);
      } catch {
        // the fd closed while we read
      }
    }
  } catch {
    // the process is gone
  }
  return out;
}

/** Whether `pid` still has a listening TCP socket. */
export function stillListening(pid: number): boolean {
  const mine = socketInodes(pid);
  if (mine.size === 0) return false;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // st 0A = LISTEN; the inode is the tenth field.
      if (f[3] === '0A' && mine.has(f[9]!)) return true;
    }
  }
  return false;
}

/** Resolve once `pid` listens no more, or after `ms`. */
export async function listenersClosed(pid: number, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (stillListening(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}
