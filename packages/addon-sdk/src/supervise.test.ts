import { spawn } from 'node:child_process';
import { freePort } from '@slipway/core';
import { expect } from 'chai';
import { createRedactingLog, Redactor } from './redact.js';
import { supervise, tcpReady } from './supervise.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('addon-sdk supervise (real child processes)', function () {
  this.timeout(30_000);
  const lines: string[] = [];
  const redactor = new Redactor();
  redactor.add('hunter2-secret');
  const log = createRedactingLog(redactor, (level, m) => lines.push(`${level}: ${m}`));

  it('waits for ready, restarts a crashing server with back-off, and stops it', async () => {
    const port = await freePort();
    // Serves for 600 ms, then crashes; prints a secret that must be redacted.
    const script = `
      const s = require('net').createServer((c) => c.end('hi')).listen(${port}, '127.0.0.1', () => {
        console.log('listening with hunter2-secret');
      });
      setTimeout(() => process.exit(3), 600);`;
    const child = await supervise(
      {
        name: 'crasher',
        command: process.execPath,
        args: ['-e', script],
        ready: tcpReady(port),
        backoff: { initialMs: 50, maxMs: 400 },
      },
      log,
    );
    const delays: number[] = [];
    child.on('crash', (_c, _s, d) => delays.push(d));
    const firstPid = child.pid!;
    await new Promise<void>((resolve) => {
      child.on('ready', () => {
        if (child.restarts >= 2) resolve();
      });
    });
    expect(child.restarts).to.be.at.least(2);
    expect(child.pid).not.to.equal(firstPid);
    // Back-off doubles from initialMs (the first crash may precede the listener under load).
    expect(delays[0]).to.be.oneOf([50, 100, 200]);
    expect(delays[1]).to.equal(delays[0]! * 2);
    expect(await tcpReady(port)()).to.equal(true);
    await child.stop();
    expect(await tcpReady(port)()).to.equal(false);
    const text = lines.join('\n');
    expect(text).to.contain('crasher: listening with [REDACTED]');
    expect(text).to.contain('crasher crashed (exit code 3)');
    expect(text).not.to.contain('hunter2-secret');
  });

  it('kills with SIGKILL a process that ignores SIGTERM, after the grace period', async () => {
    const child = await supervise(
      {
        name: 'stubborn',
        command: process.execPath,
        args: [
          '-e',
          "process.on('SIGTERM', () => console.log('ignoring TERM')); setInterval(() => {}, 1000); console.log('up')",
        ],
        stopGraceMs: 300,
      },
      log,
    );
    const pid = child.pid!;
    // Stop only once the SIGTERM handler is installed (it prints "up" after installing it).
    for (let i = 0; i < 200 && !lines.includes('info: stubborn: up'); i++)
      await new Promise((r) => setTimeout(r, 25));
    const t0 = Date.now();
    await child.stop();
    expect(Date.now() - t0).to.be.at.least(250);
    expect(alive(pid)).to.equal(false);
    expect(lines.join('\n')).to.contain('stubborn: ignoring TERM');
  });

  it('fails with a coded error when the process never becomes ready, leaving nothing running', async () => {
    let pid: number | undefined;
    let err: any;
    const port = await freePort();
    try {
      await supervise(
        {
          name: 'never-ready',
          command: process.execPath,
          args: ['-e', 'console.log(process.pid); setInterval(() => {}, 1000)'],
          ready: tcpReady(port),
          readyTimeoutMs: 400,
        },
        { ...log, info: (m: string) => (pid ??= Number(m.split(': ')[1])) },
      );
    } catch (e) {
      err = e;
    }
    expect(err?.code).to.equal('SLIPWAY_ERR_ADDON_READY_TIMEOUT');
    expect(err.message).to.contain('never-ready');
    expect(pid).to.be.a('number');
    expect(alive(pid!)).to.equal(false);
  });

  it('fails at once with a coded error when the command does not exist', async () => {
    const t0 = Date.now();
    const err: any = await supervise(
      { name: 'ghost', command: '/nonexistent/slipway-ghost-server' },
      log,
    ).catch((e) => e);
    expect(err?.code).to.equal('SLIPWAY_ERR_ADDON_SPAWN');
    expect(err.message).to.contain('/nonexistent/slipway-ghost-server');
    expect(Date.now() - t0).to.be.below(1000);
  });

  /** A platform-like process supervising one idle child (`c`, logging with `log`), then running `rest`. */
  const platformProcess = (logTo: string, rest: string) => {
    const sdk = new URL('./supervise.js', import.meta.url).href;
    const redact = new URL('./redact.js', import.meta.url).href;
    return spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { supervise } from '${sdk}';
         import { createRedactingLog, Redactor } from '${redact}';
         const log = createRedactingLog(new Redactor(), ${logTo});
         const c = await supervise({ name: 'kid', command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] }, log);
         ${rest}
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
  };

  it('takes its supervised children down when the platform process gets SIGTERM', async () => {
    const parent = platformProcess('() => {}', 'console.log(c.pid);');
    const kid = await new Promise<number>((resolve) =>
      parent.stdout!.once('data', (d) => resolve(Number(String(d).trim()))),
    );
    expect(alive(kid)).to.equal(true);
    const exited = new Promise<string | null>((r) => parent.once('exit', (_c, sig) => r(sig)));
    parent.kill('SIGTERM');
    expect(await exited).to.equal('SIGTERM');
    for (let i = 0; i < 40 && alive(kid); i++) await new Promise((r) => setTimeout(r, 50));
    expect(alive(kid)).to.equal(false);
  });

  // No exit hook runs on SIGKILL: the watchdog in the server's process group sees its pipe to
  // the platform close and stops the server the way stop() would (stop signal, then SIGKILL).
  it('takes its supervised children down within the stop grace when the platform gets SIGKILL', async () => {
    const sdk = new URL('./supervise.js', import.meta.url).href;
    const redact = new URL('./redact.js', import.meta.url).href;
    const parent = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { supervise } from '${sdk}';
         import { createRedactingLog, Redactor } from '${redact}';
         const log = createRedactingLog(new Redactor(), () => {});
         const args = ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"];
         const stubborn = await supervise({ name: 'stubborn', command: process.execPath, args, stopGraceMs: 1000 }, log);
         const polite = await supervise({ name: 'polite', command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] }, log);
         console.log(stubborn.pid, polite.pid);
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const [stubborn, polite] = await new Promise<number[]>((resolve) =>
      parent.stdout!.once('data', (d) => resolve(String(d).trim().split(' ').map(Number))),
    );
    expect(alive(stubborn!) && alive(polite!)).to.equal(true);
    const exited = new Promise<string | null>((r) => parent.once('exit', (_c, sig) => r(sig)));
    const t0 = Date.now();
    parent.kill('SIGKILL');
    expect(await exited).to.equal('SIGKILL');
    const gone = async (pid: number) => {
      for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
      return Date.now() - t0;
    };
    const politeMs = await gone(polite!);
    expect(alive(polite!), 'a server that obeys the stop signal').to.equal(false);
    expect(politeMs, 'well before its 5 s grace').to.be.below(3500);
    // Its watchdog goes with it, not at the end of the grace: the whole group is gone.
    const groupAlive = () => {
      try {
        process.kill(-polite!, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 40 && groupAlive(); i++) await new Promise((r) => setTimeout(r, 50));
    expect(groupAlive(), 'the watchdog of the stopped server').to.equal(false);
    await gone(stubborn!);
    expect(alive(stubborn!), 'a server that ignores it, after the grace').to.equal(false);
  });

  it('leaves its children to a platform that handles the signal: no crash, no restart at shutdown', async () => {
    // The platform's own handler stops the provider a moment later, as `slipway start` does.
    const parent = platformProcess(
      "(level, m) => console.log(level + ': ' + m)",
      `process.on('SIGTERM', () => setTimeout(async () => { console.log('still up: ' + (c.pid !== undefined)); await c.stop(); process.exit(0); }, 300));
       console.log('ready');`,
    );
    let out = '';
    parent.stdout!.on('data', (d) => (out += String(d)));
    for (let i = 0; i < 200 && !out.includes('ready'); i++) await new Promise((r) => setTimeout(r, 50));
    const exited = new Promise<number | null>((r) => parent.once('exit', (code) => r(code)));
    parent.kill('SIGTERM');
    expect(await exited).to.equal(0);
    expect(out).to.include('still up: true');
    expect(out).not.to.match(/crashed|restarting/);
  });

  it('logs stderr lines at the level the server gives them (PostgreSQL LOG lines are not warnings)', async () => {
    const seen: string[] = [];
    const l = createRedactingLog(new Redactor(), (level, m) => seen.push(`${level}: ${m}`));
    const c = await supervise(
      {
        name: 'pgish',
        command: process.execPath,
        args: [
          '-e',
          'console.error("LOG:  ready"); console.error("ERROR:  broken"); setInterval(() => {}, 1000)',
        ],
        stderrLevel: (line) => (/\b(WARNING|ERROR|FATAL|PANIC):/.test(line) ? 'warn' : 'info'),
      },
      l,
    );
    for (let i = 0; i < 100 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    await c.stop();
    expect(seen).to.include('info: pgish: LOG:  ready');
    expect(seen).to.include('warn: pgish: ERROR:  broken');
  });

  it('logs a 600 MB line (a statement an app sent, echoed by the server) in 10,000-byte pieces', async function () {
    this.timeout(120_000);
    let pieces = 0;
    let longest = 0;
    const l = createRedactingLog(new Redactor(), (_level, m) => {
      pieces++;
      longest = Math.max(longest, m.length);
    });
    const rss = process.memoryUsage().rss;
    const c = await supervise(
      {
        name: 'echo',
        command: 'bash',
        args: ['-c', "head -c 629145600 /dev/zero | tr '\\0' x >&2; echo done >&2; sleep 1000"],
      },
      l,
    );
    for (let i = 0; i < 1200 && pieces < 62_915; i++) await new Promise((r) => setTimeout(r, 50));
    await c.stop();
    expect(pieces).to.be.at.least(62_915);
    expect(longest).to.be.at.most(10_000 + 'echo: '.length);
    expect(process.memoryUsage().rss - rss).to.be.below(200 << 20);
  });
});
