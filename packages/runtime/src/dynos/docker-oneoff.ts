/**
 * Streams of container dynos: Docker multiplexes stdout and stderr on one connection unless
 * the container has a TTY; these helpers split them and cut them into log lines (with the local
 * runtime's splitter: a long line becomes pieces of 10,000 bytes and at most one piece is held,
 * so an app printing without newlines cannot grow the platform's memory), and the attached
 * one-off session (`slipway run`) over the engine's attach/resize/kill/wait.
 */
import { EventEmitter } from 'node:events';
import { constants as osConstants } from 'node:os';
import { PassThrough, type Readable } from 'node:stream';
import type { DynoHandle, OneOffSession } from '@slipway/core';
import type Docker from 'dockerode';
import { splitLines } from '../logs/line-splitter.js';
import { MAX_LINE_BYTES } from '../logs/log-hub.js';

/** Split a Docker stream (multiplexed unless `tty`) into stdout and stderr. */
export function demux(docker: Docker, stream: NodeJS.ReadableStream, tty: boolean) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  if (tty) stream.pipe(stdout);
  else docker.modem.demuxStream(stream, stdout, stderr);
  stream.on('end', () => {
    stdout.end();
    stderr.end();
  });
  stream.on('error', () => {
    stdout.end();
    stderr.end();
  });
  return { stdout, stderr };
}

/** Emit every line of `s` (long ones in pieces of at most `max` bytes) to `onLine`. */
export function lines(s: NodeJS.ReadableStream, onLine: (line: string) => void, max = MAX_LINE_BYTES): void {
  splitLines(s as Readable, onLine, max);
}

/** `{ code, signal }` of a container's exit status (tini reports 128 + n for signal n). */
export function splitStatus(status: number): { code: number | null; signal: NodeJS.Signals | null } {
  if (status > 128 && status < 128 + 65) {
    const name = Object.entries(osConstants.signals).find(([, n]) => n === status - 128)?.[0];
    if (name) return { code: null, signal: name as NodeJS.Signals };
  }
  return { code: status, signal: null };
}

/** A one-off dyno in a container: attached streams or logs, resize, signals, exit status. */
export class DockerOneOffSession extends EventEmitter implements OneOffSession {
  readonly stdin?: NodeJS.WritableStream;
  readonly stdout: PassThrough;
  readonly stderr: PassThrough;
  readonly exited: Promise<number>;
  private idle: NodeJS.Timeout | undefined;

  constructor(
    readonly handle: DynoHandle,
    private readonly container: Docker.Container,
    streams: { stdout: PassThrough; stderr: PassThrough; stdin?: NodeJS.WritableStream } | undefined,
    exit: Promise<number>,
    idleTimeoutMs?: number,
  ) {
    super();
    // Own buffers: whatever the dyno prints before a client reads is kept (with back-pressure),
    // and the idle timer below can watch the source without putting these into flowing mode.
    this.stdout = new PassThrough();
    this.stderr = new PassThrough();
    streams?.stdout.pipe(this.stdout);
    streams?.stderr.pipe(this.stderr);
    if (streams?.stdin) {
      const input = new PassThrough();
      input.pipe(streams.stdin as NodeJS.WritableStream);
      this.stdin = input;
    }
    if (idleTimeoutMs) {
      const touch = () => {
        clearTimeout(this.idle);
        this.idle = setTimeout(() => this.kill('SIGHUP'), idleTimeoutMs);
        this.idle.unref();
      };
      touch();
      streams?.stdout.on('data', touch);
      (this.stdin as PassThrough | undefined)?.on('data', touch);
    }
    this.exited = exit.then(async (status) => {
      clearTimeout(this.idle);
      if (!streams) {
        this.stdout.end();
        this.stderr.end();
      } else {
        // Hand over all output before the exit (bounded, should the engine hold the stream open).
        await Promise.race([
          Promise.all([ended(this.stdout), ended(this.stderr)]),
          new Promise((r) => setTimeout(r, 2000).unref()),
        ]);
      }
      const { signal } = splitStatus(status);
      this.emit('exit', status, signal);
      return status;
    });
  }

  /** Resize the container's terminal. */
  resize(columns: number, rows: number): void {
    void this.container.resize({ w: columns, h: rows }).catch(() => {});
  }

  /** Signal the one-off (tini passes it to the whole process group); default SIGTERM. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    void this.container.kill({ signal }).catch(() => {});
  }
}

function ended(s: PassThrough): Promise<void> {
  return s.readableEnded || s.writableFinished
    ? Promise.resolve()
    : new Promise((r) => s.once('finish', () => setImmediate(r)));
}
