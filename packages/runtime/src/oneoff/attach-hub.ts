/**
 * Attached one-off dynos over a WebSocket, Heroku's `attach_url` rendezvous done with `ws`.
 * `POST /apps/:app/dynos` starts the dyno and answers with `attach_url` carrying a one-time
 * secret; the client opens that URL (the secret is the credential, as Heroku's rendezvous
 * secret is) within `connectTimeoutMs` or the dyno is hung up.
 *
 * Framing on the socket:
 * - binary messages are data, the first byte names the stream: `0` stdin (client → dyno),
 *   `1` stdout and `2` stderr (dyno → client); the rest of the message is the bytes;
 * - text messages are JSON control messages. Client → dyno: `{"type":"resize","columns":C,"rows":R}`,
 *   `{"type":"signal","signal":"SIGINT"}` (only INT, TERM, HUP, QUIT, KILL), `{"type":"eof"}`
 *   (end of stdin). Dyno → client: `{"type":"started","dyno":"run.N"}` first, and
 *   `{"type":"exit","code":N}` last (128 + n after signal n), then a normal close (1000).
 * Closing the socket before the dyno exits hangs the dyno up (SIGHUP to its process group).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type Clock, type OneOffSession, systemClock } from '@slipway/core';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';

/** Channel bytes of binary frames. */
export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2 } as const;

/** Output bytes queued on a socket before the dyno's streams are paused. */
const HIGH_WATER = 1 << 20;

const SIGNALS = new Set(['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGKILL']);

interface Pending {
  session: OneOffSession;
  dyno: string;
  timer: { cancel(): void };
}

/** Holds started attached dynos until their client connects, then bridges them. */
export class AttachHub {
  private readonly pending = new Map<string, Pending>();
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

  constructor(
    private readonly connectTimeoutMs = 60_000,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Keep a started session for its client; returns the secret of its attach URL. */
  hold(session: OneOffSession, dyno: string): string {
    const secret = randomBytes(24).toString('hex');
    const timer = this.clock.setTimeout(() => {
      // Nobody came: hang up, as Heroku does with an unclaimed rendezvous.
      this.pending.delete(secret);
      session.kill('SIGHUP');
    }, this.connectTimeoutMs);
    this.pending.set(secret, { session, dyno, timer });
    // Keep the exit observed so a dyno that ends before its client comes is not an unhandled rejection.
    session.exited.catch(() => {});
    return secret;
  }

  /** The path of an attach URL for `secret`. */
  static path(secret: string): string {
    return `/attach/${secret}`;
  }

  /** Handle an HTTP upgrade; false when the path is not an attach URL (the caller answers). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const m = /^\/attach\/([0-9a-f]{48})$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
    if (!m) return false;
    const p = this.pending.get(m[1] as string);
    if (!p) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return true;
    }
    this.pending.delete(m[1] as string);
    p.timer.cancel();
    this.wss.handleUpgrade(req, socket, head, (ws) => bridge(ws, p.session, p.dyno));
    return true;
  }

  /** Hang up every dyno still waiting for its client. */
  close(): void {
    for (const p of this.pending.values()) {
      p.timer.cancel();
      p.session.kill('SIGHUP');
    }
    this.pending.clear();
    this.wss.close();
  }
}

function bridge(ws: WebSocket, session: OneOffSession, dyno: string): void {
  let exited = false;
  ws.send(JSON.stringify({ type: 'started', dyno }));
  // Back-pressure both ways, so a slow client or a fast typist never grows a buffer here: the
  // dyno's output pauses while the socket has more than HIGH_WATER bytes queued (the dyno then
  // blocks on its own writes, as on a slow terminal), and the socket pauses while stdin is full.
  const paused = new Set<NodeJS.ReadableStream>();
  const resumeOutputs = () => {
    if (ws.bufferedAmount > HIGH_WATER) return;
    for (const s of paused) s.resume();
    paused.clear();
  };
  const drained = (s: NodeJS.ReadableStream | undefined, channel: number) =>
    new Promise<void>((resolve) => {
      if (!s) return resolve();
      s.on('data', (c: Buffer) => {
        if (ws.readyState !== ws.OPEN) return;
        ws.send(Buffer.concat([Buffer.of(channel), Buffer.isBuffer(c) ? c : Buffer.from(c)]), resumeOutputs);
        if (ws.bufferedAmount > HIGH_WATER) {
          s.pause();
          paused.add(s);
        }
      });
      s.on('end', resolve);
      s.on('close', resolve);
      s.on('error', () => resolve());
    });
  const outputs = Promise.all([
    drained(session.stdout, CHANNEL.stdout),
    drained(session.stderr, CHANNEL.stderr),
  ]);
  ws.on('message', (data: RawData, isBinary: boolean) => {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (isBinary) {
      if (buf[0] === CHANNEL.stdin && buf.length > 1 && session.stdin?.write(buf.subarray(1)) === false) {
        ws.pause();
        session.stdin.once('drain', () => ws.resume());
      }
      return;
    }
    let msg: { type?: string; columns?: number; rows?: number; signal?: string };
    try {
      msg = JSON.parse(buf.toString('utf8'));
    } catch {
      return;
    }
    if (msg.type === 'resize' && Number.isInteger(msg.columns) && Number.isInteger(msg.rows))
      session.resize?.(msg.columns as number, msg.rows as number);
    else if (msg.type === 'signal' && typeof msg.signal === 'string' && SIGNALS.has(msg.signal))
      session.kill(msg.signal as NodeJS.Signals);
    else if (msg.type === 'eof') session.stdin?.end();
  });
  ws.on('close', () => {
    for (const s of paused) s.resume(); // nobody reads any more: let the dyno finish
    paused.clear();
    if (!exited) session.kill('SIGHUP');
  });
  ws.on('error', () => {});
  void session.exited.then(async (code) => {
    exited = true;
    // Output written just before the exit still goes out ahead of the exit message.
    await Promise.race([outputs, new Promise((r) => setTimeout(r, 2000))]);
    if (ws.readyState === ws.OPEN) {
      ws.send(JSON.stringify({ type: 'exit', code }));
      ws.close(1000, 'dyno exited');
    }
  });
}
