/**
 * Test harness: runs `slipway start` as a real separate process (so a test can SIGKILL it),
 * drives it with the real CLI, and sends HTTP through the real router.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The CLI entry in this checkout. */
export const CLI = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));
/** Test fixtures of this package. */
export const FIXTURES = fileURLToPath(new URL('../test/fixtures', import.meta.url));

/** JSON calls to an in-process platform's API with its token (`platform` is read at each call). */
export function apiCaller(platform: () => { apiUrl: string; token: string }) {
  return async (method: string, path: string, body?: unknown) => {
    const p = platform();
    const r = await fetch(new URL(path, p.apiUrl), {
      method,
      headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    return { status: r.status, json: (text ? JSON.parse(text) : undefined) as any };
  };
}

/** A slipway.config.json that composes the platform from the Node.js buildpack only (no defaults: fast start). */
export async function nodeOnlyConfig(dir: string): Promise<string> {
  const file = join(dir, 'slipway.config.json');
  const nodejs = fileURLToPath(new URL('../../buildpacks/nodejs', import.meta.url));
  await writeFile(file, JSON.stringify({ defaults: false, plugins: [nodejs] }));
  return file;
}

/** Output of one CLI run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const copies: string[] = [];

/** Copy a fixture into a temp dir (optionally writing extra files) and return its path. */
export async function fixtureCopy(name: string, files: Record<string, string> = {}): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), `slipway-fx-${name}-`));
  copies.push(root);
  const dir = join(root, name);
  await cp(join(FIXTURES, name), dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) await writeFile(join(dir, f), text);
  return dir;
}

/** Remove the fixture copies made so far. */
export async function removeFixtureCopies(): Promise<void> {
  await Promise.all(copies.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** GET `path` of `app` through the router listening on `port`. */
export function routerGet(
  port: number,
  app: string,
  path = '/',
  agent?: import('node:http').Agent,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, headers: { host: `${app}.localhost` }, ...(agent ? { agent } : {}) },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Poll `fn` every 200 ms until it is true (true) or `ms` pass (false). */
/** The `version` the hello fixture answers with through the router, or `HTTP <status>`. */
export async function servedVersion(port: number, app: string): Promise<string> {
  const r = await routerGet(port, app);
  return r.status === 200 ? JSON.parse(r.body).version : `HTTP ${r.status}`;
}

export async function eventually(fn: () => Promise<boolean>, ms = 20_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
  return true;
}

/** A `slipway start` process. */
export class PlatformProcess {
  routerPort = 0;
  apiUrl = '';
  output = '';
  private constructor(
    readonly dataDir: string,
    readonly child: ChildProcess,
  ) {}

  /** Start the platform on free ports and wait until it says it is running. */
  static async start(dataDir: string, extraArgs: string[] = []): Promise<PlatformProcess> {
    const child = spawn(
      process.execPath,
      [CLI, 'start', '--data-dir', dataDir, '--port', '0', '--api-port', '0', ...extraArgs],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SLIPWAY_API_URL: '', SLIPWAY_TOKEN: '' } },
    );
    const p = new PlatformProcess(dataDir, child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`platform did not start:\n${p.output}`)), 60_000);
      const onData = (c: Buffer) => {
        p.output += c.toString();
        const router = /Router:\s+http:\/\/[^:]+:(\d+)/.exec(p.output);
        const api = /API:\s+(http:\/\/\S+)/.exec(p.output);
        if (router && api && /Apps answer:/.test(p.output)) {
          p.routerPort = Number(router[1]);
          p.apiUrl = api[1] as string;
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', (c: Buffer) => (p.output += c.toString()));
      child.on('exit', (code, sig) => {
        clearTimeout(timer);
        reject(new Error(`platform exited (${sig ?? code}) before starting:\n${p.output}`));
      });
    });
    return p;
  }

  /** Run the CLI against this platform. */
  cli(args: string[], timeoutMs = 120_000): Promise<CliResult> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [CLI, ...args],
        {
          timeout: timeoutMs,
          maxBuffer: 16 << 20,
          env: { ...process.env, SLIPWAY_DATA_DIR: this.dataDir, SLIPWAY_API_URL: '', SLIPWAY_TOKEN: '' },
        },
        (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  /** Run the CLI and fail with its output unless it exits 0. */
  async ok(args: string[], timeoutMs?: number): Promise<string> {
    const r = await this.cli(args, timeoutMs);
    if (r.code !== 0) throw new Error(`slipway ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }

  /** GET through the router. */
  get(app: string, path = '/', agent?: import('node:http').Agent): Promise<{ status: number; body: string }> {
    return routerGet(this.routerPort, app, path, agent);
  }

  /** The JSON body of GET / through the router. */
  async hello(app: string): Promise<{ version: string; greeting: string; dyno: string }> {
    const r = await this.get(app);
    if (r.status !== 200) throw new Error(`GET ${app}: ${r.status} ${r.body}`);
    return JSON.parse(r.body);
  }

  /** Send a signal and wait for the process to end. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const done = new Promise((r) => this.child.once('exit', r));
    this.child.kill(signal);
    await done;
  }
}

/**
 * Keep requests flowing to an app until stopped (or `maxRequests` were sent, pausing `pauseMs`
 * between a worker's requests); counts answers other than 200.
 */
export function loadGenerator(
  p: PlatformProcess,
  app: string,
  concurrency = 4,
  bounds: { maxRequests?: number; pauseMs?: number } = {},
) {
  let running = true;
  let sent = 0;
  const stats = { ok: 0, failed: 0, failures: [] as string[] };
  const worker = async () => {
    while (running && sent++ < (bounds.maxRequests ?? Number.POSITIVE_INFINITY)) {
      if (bounds.pauseMs) await new Promise((r) => setTimeout(r, bounds.pauseMs));
      try {
        const r = await p.get(app);
        if (r.status === 200) stats.ok++;
        else {
          stats.failed++;
          stats.failures.push(`${r.status} ${r.body.slice(0, 200)}`);
        }
      } catch (e) {
        stats.failed++;
        stats.failures.push((e as Error).message);
      }
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  return {
    stats,
    async stop() {
      running = false;
      await Promise.all(workers);
      return stats;
    },
  };
}
