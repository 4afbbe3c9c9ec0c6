/**
 * The session of a one-off dyno (`slipway run`) of the local runtime: its streams when attached
 * (all output handed over before the exit is reported), its logs when detached, the idle
 * hang-up, resizing and signals.
 */
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import type { DynoHandle, OneOffSession, OneOffSpec } from '@slipway/core';
import type { DynoExit, DynoProcess } from './dyno-process.js';

/** Resolves once everything written to `s` has been written through (its writable side finished). */
function finished(s: PassThrough): Promise<void> {
  return s.writableFinished ? Promise.resolve() : new Promise((r) => s.once('finish', () => setImmediate(r)));
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

/** A one-off dyno session: streams when attached, logs when detached. */
export class LocalOneOffSession extends EventEmitter implements OneOffSession {
  readonly stdin?: NodeJS.WritableStream;
  readonly stdout: PassThrough;
  readonly stderr: PassThrough;
  readonly exited: Promise<number>;
  private idle: NodeJS.Timeout | undefined;

  constructor(
    readonly handle: DynoHandle,
    private readonly proc: DynoProcess,
    spec: OneOffSpec,
  ) {
    super();
    if (spec.attach) {
      this.stdout = proc.stdout.pipe(new PassThrough());
      this.stderr = proc.stderr.pipe(new PassThrough());
    } else {
      // Detached output goes to the logs (line events); these stay empty.
      this.stdout = new PassThrough();
      this.stderr = new PassThrough();
      proc.exited.then(() => {
        this.stdout.end();
        this.stderr.end();
      });
    }
    if (proc.stdin) {
      const input = new PassThrough();
      input.pipe(proc.stdin);
      proc.stdin.on('error', () => {});
      this.stdin = input;
    }
    const idleMs = spec.attach ? spec.idleTimeoutMs : undefined;
    if (idleMs) {
      const touch = () => {
        clearTimeout(this.idle);
        this.idle = setTimeout(() => proc.killGroup('SIGHUP'), idleMs);
        this.idle.unref();
      };
      touch();
      proc.stdout.on('data', touch);
      (this.stdin as PassThrough | undefined)?.on('data', touch);
    }
    this.exited = proc.exited.then(async (e: DynoExit) => {
      clearTimeout(this.idle);
      // A process's exit can be reported before its last output is read: an attached session
      // hands over all output first (bounded, in case a leftover child holds the pipes open).
      if (spec.attach)
        await Promise.race([Promise.all([finished(this.stdout), finished(this.stderr)]), delay(2000)]);
      this.emit('exit', e.status, e.signal);
      return e.status;
    });
  }

  /** Resize the dyno's pseudo-terminal (a no-op without one). */
  resize(columns: number, rows: number): void {
    void this.proc.resize(columns, rows);
  }

  /** Signal the whole one-off dyno (default SIGTERM). */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.proc.killGroup(signal);
  }
}
