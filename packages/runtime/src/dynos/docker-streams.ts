/**
 * Streams of container dynos: Docker multiplexes stdout and stderr on one connection unless
 * the container has a TTY; these helpers split them and cut them into log lines (with the local
 * runtime's splitter: a long line becomes pieces of 10,000 bytes and at most one piece is held,
 * so an app printing without newlines cannot grow the platform's memory), and exit statuses.
 */
import { constants as osConstants } from 'node:os';
import { PassThrough, type Readable } from 'node:stream';
import { splitLines } from '@slipway/core';
import type Docker from 'dockerode';
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

/**
 * Attach to a created container before it starts (so no output is missed): its stdout and
 * stderr, split unless `tty`, and with `interactive` the connection itself as its stdin.
 */
export async function attachStreams(
  docker: Docker,
  container: Docker.Container,
  interactive: boolean,
  tty: boolean,
) {
  const stream = (await container.attach({
    stream: true,
    stdout: true,
    stderr: true,
    stdin: interactive,
    hijack: interactive,
  })) as unknown as NodeJS.ReadWriteStream;
  return { ...demux(docker, stream, tty), stdin: stream };
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
