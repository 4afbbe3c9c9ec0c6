/**
 * Running README.md's shell blocks as a user would: the blocks are read from the README itself
 * (so the test and the text cannot drift), each line runs in bash from the root of the checkout
 * in a process group of its own; a line that keeps running (a server) is started in the
 * background and waited for until it prints what says it is ready, and stopped at the end.
 */
import { spawn } from 'node:child_process';
import { request } from 'node:http';

/** The ```sh blocks under the `## heading` of a README, each as its command lines. */
export function shellBlocks(readme: string, heading: string): string[][] {
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README.md has no "## ${heading}" section`);
  const end = readme.indexOf('\n## ', start + heading.length + 4);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) =>
    (m[1] as string).split('\n').filter((l) => l.trim() && !l.trim().startsWith('#')),
  );
}

/** How one line ended. */
export interface LineResult {
  code: number | null;
  output: string;
}

/** A line still running in the background. */
export interface Background {
  readonly line: string;
  output(): string;
  exited(): boolean;
  /** Signal its whole process group and wait for it to end (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

function start(line: string, cwd: string, env: NodeJS.ProcessEnv, input?: string) {
  const child = spawn('bash', ['-o', 'pipefail', '-c', line], {
    cwd,
    env,
    detached: true,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  // What a user would type at the line's prompts.
  if (input !== undefined) child.stdin?.end(input);
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, done, output: () => output };
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  try {
    if (pid) process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Run one line to its end (killed with its group after `timeoutMs`); `input` is typed at its prompts. */
export async function runLine(
  line: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
  input?: string,
  timeoutMs = 10 * 60_000,
): Promise<LineResult> {
  const s = start(line, cwd, env, input);
  const timer = setTimeout(() => killGroup(s.child.pid, 'SIGKILL'), timeoutMs);
  const code = await s.done;
  clearTimeout(timer);
  // A line may leave a child behind (a daemon it started): its group goes with the line.
  killGroup(s.child.pid, 'SIGTERM');
  return { code, output: s.output() };
}

/**
 * Start a line that keeps running; resolves once its output matches `ready`, rejects when it
 * exits first or `timeoutMs` passes (the group is stopped then).
 */
export async function startLine(
  line: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  timeoutMs: number,
): Promise<Background> {
  const s = start(line, cwd, env);
  let exited = false;
  void s.done.then(() => (exited = true));
  const bg: Background = {
    line,
    output: s.output,
    exited: () => exited,
    async stop(graceMs = 60_000) {
      if (exited) return killGroup(s.child.pid, 'SIGKILL');
      killGroup(s.child.pid, 'SIGINT');
      const timer = setTimeout(() => killGroup(s.child.pid, 'SIGKILL'), graceMs);
      await s.done;
      clearTimeout(timer);
      killGroup(s.child.pid, 'SIGKILL');
    },
  };
  const deadline = Date.now() + timeoutMs;
  while (!ready.test(s.output())) {
    if (exited || Date.now() > deadline) {
      await bg.stop(5_000);
      throw Object.assign(
        new Error(`${exited ? 'exited' : 'not ready in time'}: ${line}\n${s.output().slice(-6000)}`),
        { output: s.output() },
      );
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return bg;
}

/** GET `url` (http://<app>.localhost:<port>/…) through loopback, Host header as given. */
export function getThroughRouter(url: string): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: u.port,
        path: u.pathname + u.search,
        headers: { host: u.host },
        timeout: 30_000,
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}
