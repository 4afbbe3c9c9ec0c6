/**
 * End-to-end for the app workflow: one-off dynos (`run` in a real pseudo-terminal made by
 * util-linux `script`, piped `run`, `run:detached`, `ps`), log drains (an HTTP drain and a
 * syslog TCP server written here receive framed lines), custom domains and maintenance mode,
 * all through the real CLI against a real `slipway start` and its router.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingHttpHeaders, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parseOctetCounted } from '../drains/drain-format.js';
import { ptyOfChild } from '../dynos/dyno-process.js';
import {
  CLI,
  fixtureCopy,
  nodeOnlyConfig,
  PlatformProcess,
  removeFixtureCopies,
} from '../platform-harness.test-helper.js';

/** A pseudo-terminal needs util-linux `script`: required in CI, a loud skip elsewhere. */
function needScript(test: Mocha.Context): void {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
  } catch {
    if (process.env.CI === 'true')
      throw new Error('util-linux `script` is required (apt-get install bsdutils)');
    console.warn('SKIPPED: util-linux `script` is not installed; cannot make a pseudo-terminal');
    test.skip();
  }
}

async function until<T>(
  what: string,
  fn: () => T | undefined | Promise<T | undefined>,
  ms = 20_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** GET through the router with a given Host header. */
function getHost(
  port: number,
  host: string,
): Promise<{ status: number; body: string; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('app workflow end to end (run, drains, domains, maintenance)', function () {
  this.timeout(300_000);
  let dataDir: string;
  let p: PlatformProcess;
  const env = () => ({ ...process.env, SLIPWAY_DATA_DIR: dataDir, SLIPWAY_API_URL: '', SLIPWAY_TOKEN: '' });

  /** Run the CLI under `script` (a real pty); `input` is typed once `waitFor` shows up. */
  function inPty(
    args: string[],
    extraEnv: Record<string, string>,
    keys?: { waitFor: RegExp; input: string | ((script: ChildProcess) => void) },
  ): Promise<{ code: number; output: string }> {
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const line = [process.execPath, CLI, ...args].map((a) => (a.startsWith('"$') ? a : q(a))).join(' ');
    return new Promise((resolve) => {
      const child = spawn('script', ['-qfec', line, '/dev/null'], {
        env: { ...env(), ...extraEnv },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let output = '';
      let typed = false;
      const onData = (c: Buffer) => {
        output += c.toString();
        if (keys && !typed && keys.waitFor.test(output)) {
          typed = true;
          // Give the CLI a moment to put the terminal in raw mode before the key arrives.
          const { input } = keys;
          setTimeout(() => (typeof input === 'string' ? child.stdin.write(input) : input(child)), 500);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        child.stdin.end();
        resolve({ code: code ?? -1, output });
      });
    });
  }

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'slipway-wf-'));
    const args = ['--config', await nodeOnlyConfig(await mkdtemp(join(tmpdir(), 'slipway-cfg-')))];
    // The drains of these tests are servers on loopback.
    p = await PlatformProcess.start(dataDir, [...args, '--allow-loopback-drains']);
    await p.ok(['apps:create', 'wk']);
    await p.ok(['deploy', await fixtureCopy('hello', { VERSION: 'one' }), '-a', 'wk']);
  });
  after(async () => {
    await p?.kill('SIGTERM');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    await removeFixtureCopies();
  });

  it('runs an attached one-off in a real pty: output, terminal, exit code with --exit-code only', async function () {
    needScript(this);
    const cmd = { DYNO_CMD: 'tty; stty size; echo "dyno=$DYNO"; exit 3' };
    const withCode = await inPty(['run', '-a', 'wk', '--exit-code', '--', '"$DYNO_CMD"'], cmd);
    expect(withCode.output).to.match(/Running tty; stty size.* on wk\.\.\. up, run\.\d+/);
    const shown = `output was ${JSON.stringify(withCode.output)}`;
    expect(withCode.output, shown).to.match(/\/dev\/pts\/\d+/);
    expect(withCode.output, shown).to.match(/^\d+ \d+\r?$/m);
    expect(withCode.output, shown).to.match(/dyno=run\.\d+/);
    expect(withCode.code, shown).to.equal(3);
    const without = await inPty(['run', '-a', 'wk', '--', '"$DYNO_CMD"'], cmd);
    expect(without.output, `output was ${JSON.stringify(without.output)}`).to.match(/dyno=run\.\d+/);
    expect(without.code).to.equal(0);
  });

  it('delivers Ctrl-C typed in the local terminal to the dyno', async function () {
    needScript(this);
    const r = await inPty(
      ['run', '-a', 'wk', '--exit-code', '--', '"$DYNO_CMD"'],
      { DYNO_CMD: 'echo ready; sleep 30; echo never' },
      { waitFor: /ready/, input: '\x03' },
    );
    expect(r.output, r.output).to.not.match(/^never/m);
    expect(r.code).to.equal(130);
  });

  it('passes a resize of the local terminal on to the dyno (SIGWINCH and the new size)', async function () {
    needScript(this);
    // Resize the CLI's own terminal, as a user dragging the window does: its kernel sends the
    // CLI SIGWINCH, the CLI sends the new size, and the dyno's terminal follows.
    const resizeCliTerminal = async (script: ChildProcess) => {
      const pts = await ptyOfChild(script.pid as number);
      if (pts) execFile('stty', ['-F', pts, 'cols', '123', 'rows', '45'], () => {});
    };
    const r = await inPty(
      ['run', '-a', 'wk', '--exit-code', '--', '"$DYNO_CMD"'],
      { DYNO_CMD: "trap 'stty size; exit 0' WINCH; echo ready; while :; do sleep 0.05; done" },
      { waitFor: /ready/, input: (s) => void resizeCliTerminal(s) },
    );
    expect(r.output, `output was ${JSON.stringify(r.output)}`).to.match(/^45 123\r?$/m);
    expect(r.code).to.equal(0);
  });

  it('pipes stdin through a non-tty run and ends it at EOF', async () => {
    const out = await new Promise<{ code: number; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, 'run', '-a', 'wk', '--exit-code', '--', 'cat; exit 7'], {
        env: env(),
      });
      let stdout = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.on('exit', (code) => resolve({ code: code ?? -1, stdout }));
      child.stdin.end('piped line\n');
    });
    expect(out.stdout).to.equal('piped line\n');
    expect(out.code).to.equal(7);
  });

  it('runs detached to the logs, lists the one-off in ps as run.N, and refuses an app with no release', async () => {
    // Long enough to outlive the CLI calls below on a loaded machine: ps:stop ends it.
    const d = await p.ok(['run:detached', '-a', 'wk', '--', 'echo detached-output; sleep 120']);
    const name = /up, (run\.\d+)/.exec(d)?.[1] as string;
    expect(name).to.match(/^run\.\d+$/);
    const ps = await p.ok(['ps', '-a', 'wk']);
    expect(ps).to.match(/=== run: one-off processes \(1\)/);
    expect(ps).to.include(`${name}: up`);
    await until('the detached output in the logs', async () =>
      (await p.ok(['logs', '-a', 'wk', '--dyno', name])).includes(`app[${name}]: detached-output`),
    );
    expect(await p.ok(['ps:stop', name, '-a', 'wk'])).to.match(
      new RegExp(`Stopping ${name.replace('.', '\\.')}`),
    );
    await until('the one-off to go', async () => !(await p.ok(['ps', '-a', 'wk'])).includes(name));
    const size = await p.cli(['run:detached', '-a', 'wk', '--size', 'huge-9x', '--', 'true']);
    expect(size.stderr).to.match(/field size is not one of .*standard-1x/);
    await p.ok(['apps:create', 'empty-wk']);
    const r = await p.cli(['run', '-a', 'empty-wk', '--', 'true']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/app empty-wk has no release to run a command in/);
  });

  it('sends log lines to an HTTP drain and a syslog drain written for the test', async () => {
    const posts: { headers: IncomingHttpHeaders; frames: string[] }[] = [];
    const http = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        posts.push({ headers: req.headers, frames: parseOctetCounted(Buffer.concat(chunks)).messages });
        res.end();
      });
    });
    const syslog: string[] = [];
    const tcp = createTcpServer((s) => {
      let buf: Buffer = Buffer.alloc(0);
      s.on('data', (c: Buffer) => {
        const parsed = parseOctetCounted(Buffer.concat([buf, c]));
        syslog.push(...parsed.messages);
        buf = parsed.rest;
      });
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    try {
      const httpUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}/drain`;
      const syslogUrl = `syslog://127.0.0.1:${(tcp.address() as AddressInfo).port}`;
      expect(await p.ok(['drains:add', httpUrl, '-a', 'wk'])).to.match(/Successfully added drain/);
      await p.ok(['drains:add', syslogUrl, '-a', 'wk']);
      const list = await p.ok(['drains', '-a', 'wk']);
      expect(list).to.include(httpUrl).and.include(syslogUrl);

      await p.ok(['run:detached', '-a', 'wk', '--', 'echo drained-line']);
      const frame = await until('the HTTP drain frame', () =>
        posts.flatMap((x) => x.frames).find((f) => f.endsWith(' drained-line\n')),
      );
      expect(frame, frame).to.match(/^<190>1 \S+ d\.\S+ app run\.\d+ - drained-line\n$/);
      expect(posts[0]?.headers['content-type']).to.equal('application/logplex-1');
      expect(posts[0]?.headers['logplex-msg-count']).to.equal(String(posts[0]?.frames.length));
      const msg = await until('the syslog message', () => syslog.find((m) => m.endsWith(' drained-line')));
      expect(msg).to.match(/^<190>1 \S+ d\.\S+ app run\.\d+ - - drained-line$/);

      // Bad drains: not http(s)/syslog, the platform's own API, a duplicate, a sixth.
      const apiPort = new URL(p.apiUrl).port;
      const bad = await p.cli(['drains:add', 'ftp://logs.example.com/', '-a', 'wk']);
      expect(bad.stderr).to.match(/scheme ftp is not http, https, syslog or syslog\+tls/);
      const self = await p.cli(['drains:add', `http://127.0.0.1:${apiPort}/x`, '-a', 'wk']);
      expect(self.stderr).to.match(/points at the platform's own API or router/);
      for (let i = 3; i <= 5; i++) await p.ok(['drains:add', `https://logs${i}.example.com/`, '-a', 'wk']);
      const sixth = await p.cli(['drains:add', 'https://logs6.example.com/', '-a', 'wk']);
      expect(sixth.stderr).to.match(/already has 5 log drains/);
      expect(await p.ok(['drains:remove', httpUrl, '-a', 'wk'])).to.match(/Successfully removed drain/);
    } finally {
      http.close();
      tcp.close();
    }
  });

  it('routes a custom domain to the app and serves H80 in maintenance mode', async () => {
    expect(await p.ok(['domains:add', 'WWW.Example.COM', '-a', 'wk'])).to.match(/Adding www\.example\.com/);
    expect(await p.ok(['domains', '-a', 'wk'])).to.include('www.example.com');
    const viaDomain = await until('the domain to route', async () => {
      const r = await getHost(p.routerPort, 'www.example.com');
      return r.status === 200 ? r : undefined;
    });
    expect(JSON.parse(viaDomain.body).version).to.equal('one');
    const taken = await p.cli(['domains:add', 'www.example.com', '-a', 'empty-wk']);
    expect(taken.stderr).to.match(/already taken by another app/);
    const base = await p.cli(['domains:add', 'other.localhost', '-a', 'wk']);
    expect(base.stderr).to.match(/base domain/);

    await p.ok(['maintenance:on', '-a', 'wk']);
    expect((await p.ok(['maintenance', '-a', 'wk'])).trim()).to.equal('on');
    const down = await getHost(p.routerPort, 'www.example.com');
    expect(down.status).to.equal(503);
    expect((await p.get('wk')).status).to.equal(503);
    const logs = await p.ok(['logs', '-a', 'wk']);
    expect(logs, logs).to.match(/code=H80/);
    await p.ok(['maintenance:off', '-a', 'wk']);
    expect((await p.get('wk')).status).to.equal(200);

    await p.ok(['domains:remove', 'www.example.com', '-a', 'wk']);
    expect((await getHost(p.routerPort, 'www.example.com')).status).to.not.equal(200);
  });
});
