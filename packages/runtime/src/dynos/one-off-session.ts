/**
 * The session of a one-off dyno (`slipway run`), whatever runs it: its streams when attached
 * (all output handed over before the exit is reported), empty streams when detached (its output
 * goes to the logs), the idle hang-up, resizing and signals. A runtime hands over the dyno's
 * streams, its exit and how to signal and resize it (a local process group, a container).
 */
import { EventEmitter } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import { type Clock, type DynoHandle, type OneOffSession, systemClock } from '@slipway/core';

/** What a runtime gives a one-off session. */
export interface OneOffParts {
  /** The dyno's streams when attached; none when detached. */
  streams?: { stdout: Readable; stderr: Readable; stdin?: NodeJS.WritableStream | undefined };
  /** Resolves when the dyno is over: its exit status (shell style) and signal. */
  exit: Promise<{ status: number; signal: NodeJS.Signals | null }>;
  /** Attached only: hang up (SIGHUP) after this long without output or input. */
  idleTimeoutMs?: number | undefined;
  /** The time source of the idle hang-up; default the system's. */
  clock?: Clock;
  /** Signal the whole dyno. */
  kill(signal: NodeJS.Signals): void;
  /** Resize the dyno's terminal (a no-op without one). */
  resize(columns: number, rows: number): void;
}

/** Resolves once everything written to `s` has been written through (its writable side finished). */
function finished(s: PassThrough): Promise<void> {
  return s.writableFinished ? Promise.resolve() : new Promise((r) => s.once('finish', () => setImmediate(r)));
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

/** A one-off dyno session: streams when attached, logs when detached. */
export class RuntimeOneOffSession extends EventEmitter implements OneOffSession {
  readonly stdin?: NodeJS.WritableStream;
  /** Own buffers: whatever the dyno prints before a client reads is kept (with back-pressure). */
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly exited: Promise<number>;
  private idle: { cancel(): void } | undefined;

  constructor(
    readonly handle: DynoHandle,
    private readonly parts: OneOffParts,
  ) {
    super();
    const { streams } = parts;
    streams?.stdout.pipe(this.stdout);
    streams?.stderr.pipe(this.stderr);
    if (streams?.stdin) {
      const input = new PassThrough();
      input.pipe(streams.stdin);
      streams.stdin.on('error', () => {});
      this.stdin = input;
    }
    const idleMs = streams ? parts.idleTimeoutMs : undefined;
    if (idleMs) {
      const touch = () => {
        this.idle?.cancel();
        this.idle = (parts.clock ?? systemClock).setTimeout(() => this.kill('SIGHUP'), idleMs);
      };
      touch();
      streams?.stdout.on('data', touch);
      (this.stdin as PassThrough | undefined)?.on('data', touch);
    }
    this.exited = parts.exit.then(async ({ status, signal }) => {
      this.idle?.cancel();
      if (!streams) {
        this.stdout.end();
        this.stderr.end();
      } else {
        // A dyno's exit can be reported before its last output is read: an attached session
        // hands over all output first (bounded, in case a leftover child or the engine holds the
        // streams open).
        await Promise.race([Promise.all([finished(this.stdout), finished(this.stderr)]), delay(2000)]);
      }
      this.emit('exit', status, signal);
      return status;
    });
  }

  /** Resize the dyno's terminal (a no-op without one). */
  resize(columns: number, rows: number): void {
    this.parts.resize(columns, rows);
  }

  /** Signal the whole one-off dyno (default SIGTERM). */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.parts.kill(signal);
  }
}
