/**
 * Attaching to a one-off dyno on another node, as Heroku's `run` does through its rendezvous
 * service: the engine that runs the task is not the platform's to talk to (only the manager's
 * is), so the dyno calls the platform instead. Its boot script, still root and before anything
 * of the app runs, opens a TCP connection to this server over its app's overlay (through the
 * edge gateway), sends the one-time secret it was started with, and makes that connection its
 * stdin, stdout and stderr. The server hands the connection to the waiting session; a wrong or
 * used secret gets the connection closed. It listens on the host's side of the edge bridge only.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';

/** Connections from one-off dynos, matched to their sessions by a one-time secret. */
export class Rendezvous {
  private server: Server | undefined;
  private readonly waiting = new Map<string, { take(s: Socket): void; fail(why: Error): void }>();
  /** Where dynos connect: `host:port`, the host being the edge gateway's name on their overlay. */
  address = '';
  /** Connections that have not sent a secret yet. */
  private pending = 0;

  /**
   * `maxPending` caps the connections still to send their secret: any dyno can connect, and
   * without a cap one could hold enough to run the platform out of file descriptors (its API
   * and router with it). Past it a new connection is closed at once: that one-off fails, not the platform.
   */
  constructor(private readonly maxPending = 256) {}

  /** Listen on `host` (the host's side of the edge bridge); dynos reach it at `publicHost`. */
  async listen(host: string, publicHost: string): Promise<void> {
    const server = createServer({ allowHalfOpen: true }, (s) => this.accept(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    this.server = server;
    this.address = `${publicHost}:${(server.address() as { port: number }).port}`;
  }

  /** A new secret and the connection that will bring it (rejected after `timeoutMs` or by `cancel`). */
  expect(timeoutMs: number): { secret: string; socket: Promise<Socket>; cancel(why: Error): void } {
    const secret = randomBytes(24).toString('hex');
    let cancel!: (why: Error) => void;
    const socket = new Promise<Socket>((resolve, reject) => {
      const timer = setTimeout(
        () => cancel(new Error(`the dyno did not call back within ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
      timer.unref();
      cancel = (why) => {
        clearTimeout(timer);
        if (this.waiting.delete(secret)) reject(why);
      };
      this.waiting.set(secret, {
        take: (s) => {
          clearTimeout(timer);
          this.waiting.delete(secret);
          resolve(s);
        },
        fail: cancel,
      });
    });
    socket.catch(() => {});
    return { secret, socket, cancel };
  }

  /** Stop listening (connections handed over stay with their sessions); sessions still waiting fail. */
  async close(): Promise<void> {
    for (const w of [...this.waiting.values()]) w.fail(new Error('the platform is stopping'));
    this.server?.close();
  }

  /** Read the secret line (at most 64 bytes, within 10 s), then hand the rest of the connection over. */
  private accept(s: Socket): void {
    if (this.pending >= this.maxPending) return void s.destroy();
    this.pending++;
    let counted = true;
    const settle = () => {
      if (counted) this.pending--;
      counted = false;
    };
    let head = Buffer.alloc(0);
    const drop = () => {
      settle();
      s.destroy();
    };
    const timer = setTimeout(drop, 10_000);
    s.on('error', drop);
    // Half-open connections are allowed (a session's stdin ends apart from its output), so a
    // caller that leaves before its secret is dropped here, not left counted.
    s.on('end', drop);
    s.once('close', settle);
    const onData = (c: Buffer) => {
      head = Buffer.concat([head, c]);
      const nl = head.indexOf(10);
      if (nl < 0) {
        if (head.length > 64) drop();
        return;
      }
      s.off('data', onData);
      clearTimeout(timer);
      settle();
      s.pause();
      const w = this.waiting.get(head.subarray(0, nl).toString('latin1'));
      if (!w) return drop();
      s.off('error', drop);
      s.off('end', drop);
      if (head.length > nl + 1) s.unshift(head.subarray(nl + 1));
      w.take(s);
    };
    s.on('data', onData);
  }
}
