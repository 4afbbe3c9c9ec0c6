/**
 * HAProxy's runtime API over its stats socket: one connection per command, the answer read
 * until HAProxy closes it. Commands run one at a time, in order, so a `prepare map` and its
 * `commit map` are never interleaved with another change.
 */
import net from 'node:net';
import { routerErrors } from '../errors.js';

/** A client of one HAProxy stats socket. */
export class StatsSocket {
  private queue: Promise<unknown> = Promise.resolve();
  constructor(private readonly path: string) {}

  /** Run one command; resolves with HAProxy's answer (trimmed). */
  run(command: string): Promise<string> {
    const next = this.queue.then(() => this.send(command));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Run a command whose answer must be empty or a known success; anything else is an error. */
  async must(
    command: string,
    ok: RegExp = /^$|^New ssl|^Committing|^Transaction|^Success|^Server deleted|^New server registered/i,
  ): Promise<string> {
    const answer = await this.run(command);
    if (!ok.test(answer))
      throw routerErrors.SLIPWAY_ERR_ROUTER_DATA_PLANE({
        command: command.split('\n')[0]!.slice(0, 120),
        detail: answer,
      });
    return answer;
  }

  private send(command: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(this.path);
      const chunks: Buffer[] = [];
      socket.on('connect', () => socket.end(`${command}\n`));
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', (e) =>
        reject(
          routerErrors.SLIPWAY_ERR_ROUTER_DATA_PLANE(
            { command: command.slice(0, 120), detail: e.message },
            { cause: e },
          ),
        ),
      );
      socket.on('close', () => resolve(Buffer.concat(chunks).toString().trim()));
    });
  }
}
