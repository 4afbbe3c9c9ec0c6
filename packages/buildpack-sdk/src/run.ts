/**
 * Running build commands: an argument array (never a shell string), output streamed line by line
 * into the build log indented seven spaces, and the command's whole process tree killed when the
 * build's signal aborts, so a hung `npm install` cannot outlive its build.
 */
import { spawn } from 'node:child_process';
import { type BuildLog, indentOutput } from '@slipway/core';
import { buildpackErrors } from './errors.js';
import { killTree } from './process-tree.js';
import type { RunResult } from './types.js';

/** How many stderr lines a failure message quotes. */
const TAIL_LINES = 8;
/**
 * How long to wait for the output pipes after the command exits. A daemon it left behind (a
 * Gradle daemon, `cmd &`) can hold them open for ever; the command itself is done.
 */
const PIPE_GRACE_MS = 1000;

/** Everything `spawnLogged` needs; the compile context fills it in. */
export interface SpawnOptions {
  cwd: string;
  /** The complete environment of the child. */
  env: Record<string, string>;
  log: BuildLog;
  signal?: AbortSignal;
  stream?: boolean;
  allowFailure?: boolean;
  input?: string;
  /** Origin stamped on errors (`buildpack nodejs`). */
  origin?: string;
  /** Indent output seven spaces (default); classic buildpacks format their own output. */
  indent?: boolean;
}

/** Longest line (characters) passed on whole; longer ones come in pieces, as logplex splits them. */
export const MAX_LINE_CHARS = 10_000;

/**
 * Turn a stream of chunks into whole lines, keeping a trailing partial line until more comes.
 * A partial line never grows past `MAX_LINE_CHARS`: a tool printing megabytes without a newline
 * costs the build nothing but pieces.
 */
export function lineSplitter(onLine: (line: string) => void): { push(chunk: string): void; end(): void } {
  let rest = '';
  return {
    push(chunk) {
      const parts = (rest + chunk).split(/\r?\n/);
      rest = parts.pop() ?? '';
      for (const p of parts)
        for (let i = 0; i < p.length || i === 0; i += MAX_LINE_CHARS) onLine(p.slice(i, i + MAX_LINE_CHARS));
      while (rest.length > MAX_LINE_CHARS) {
        onLine(rest.slice(0, MAX_LINE_CHARS));
        rest = rest.slice(MAX_LINE_CHARS);
      }
    },
    end() {
      if (rest) onLine(rest);
      rest = '';
    },
  };
}

/** Remove ANSI escape sequences (colours, cursor moves) from a line of tool output. */
export function stripAnsi(line: string): string {
  return line.replace(/\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007]*\u0007/g, '');
}

/** Quote one argument for display only (error messages, logs); never executed. */
function showArg(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/** The command line as a user would type it, for messages. */
export function showCommand(command: string, args: readonly string[]): string {
  return [command, ...args].map(showArg).join(' ');
}

/** Spawn `command args` with the given environment, streaming to the log; see `SpawnOptions`. */
export function spawnLogged(
  command: string,
  args: readonly string[],
  opts: SpawnOptions,
): Promise<RunResult> {
  const shown = showCommand(command, args);
  const errOpts = opts.origin ? { plugin: opts.origin, hook: '' } : {};
  if (opts.signal?.aborted)
    return Promise.reject(buildpackErrors.SLIPWAY_ERR_BUILDPACK_COMMAND_ABORTED({ command: shown }, errOpts));
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], {
      cwd: opts.cwd,
      env: opts.env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const tail: string[] = [];
    const stream = opts.stream ?? true;
    const show = (line: string) => {
      // Tools such as Maven colour their output even when told not to; the log is plain text.
      const plain = stripAnsi(line);
      if (stream) opts.log.raw(opts.indent === false ? plain : indentOutput(plain));
    };
    const out = lineSplitter(show);
    const err = lineSplitter((line) => {
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      show(line);
    });
    child.stdout?.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      out.push(c);
    });
    child.stderr?.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
      err.push(c);
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    let aborted = false;
    const onAbort = () => {
      aborted = true;
      // The whole tree: npm → node-gyp → make must not outlive the build.
      killTree(child.pid);
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let spawnError: NodeJS.ErrnoException | undefined;
    child.on('error', (e: NodeJS.ErrnoException) => {
      spawnError = e;
    });
    let settled = false;
    child.on('exit', () => {
      setTimeout(() => {
        if (settled) return;
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, PIPE_GRACE_MS).unref();
    });
    child.on('close', (code, sig) => {
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      out.end();
      err.end();
      if (spawnError) {
        reject(
          buildpackErrors.SLIPWAY_ERR_BUILDPACK_COMMAND_NOT_FOUND(
            {
              command: shown,
              program: command,
              detail: spawnError.code === 'ENOENT' ? 'not found' : spawnError.message,
            },
            { cause: spawnError, ...errOpts },
          ),
        );
        return;
      }
      if (aborted) {
        reject(buildpackErrors.SLIPWAY_ERR_BUILDPACK_COMMAND_ABORTED({ command: shown }, errOpts));
        return;
      }
      const exit = code ?? 128;
      if (exit !== 0 && !opts.allowFailure) {
        const lines = tail.filter((l) => l.trim());
        const tailText = lines.length ? `; last lines of stderr:\n${lines.join('\n')}` : '';
        reject(
          buildpackErrors.SLIPWAY_ERR_BUILDPACK_COMMAND_FAILED(
            { command: shown, code: code ?? `signal ${sig}`, tail: tailText, stderr: lines },
            errOpts,
          ),
        );
        return;
      }
      resolve({ stdout, stderr, code: exit });
    });
  });
}

/** Merge environment layers left to right; an `undefined` value removes the variable. */
export function mergeEnv(...layers: (Record<string, string | undefined> | NodeJS.ProcessEnv | undefined)[]) {
  const env: Record<string, string> = {};
  for (const layer of layers)
    for (const [k, v] of Object.entries(layer ?? {})) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
  return env;
}
