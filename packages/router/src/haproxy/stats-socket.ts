/**
 * HAProxy's runtime API over its stats socket: one connection per command, the answer read
 * until HAProxy closes it. Commands run one at a time, in order, so a `prepare map` and its
 * `commit map` are never interleaved with another change.
 */
import net from 'node:net';
import { routerErrors } from '../errors.js';

/** Answers of the runtime API that mean success (the others are errors). */
const SUCCESS = /^(New server registered\.|Server deleted\.|New version created: \d+|Done\.?)$/i;

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

  /**
   * Run several commands in one round trip (`;`-separated, applied in order). Every line of
   * the answer must be a known success, else the first other line is the error.
   */
  async batch(commands: readonly string[]): Promise<void> {
    const answer = await this.run(commands.join('; '));
    const bad = answer.split('\n').find((l) => l.trim() !== '' && !SUCCESS.test(l.trim()));
    if (bad !== undefined)
      throw routerErrors.SLIPWAY_ERR_ROUTER_DATA_PLANE({ command: commands[0]!.slice(0, 120), detail: bad });
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
