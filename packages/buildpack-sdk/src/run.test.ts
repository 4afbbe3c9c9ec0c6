import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSlipwayError } from '@slipway/core';
import { expect } from 'chai';
import { testBuildpack } from './harness.js';
import { alive, fixture, sleep } from './test-helpers.test.js';
import type { BuildpackCompileContext, BuildpackDefinition } from './types.js';

/** A buildpack whose compile is the given function, claiming every app. */
function withCompile(
  id: string,
  compile: (ctx: BuildpackCompileContext) => Promise<void>,
): BuildpackDefinition {
  return { id, name: id, detect: () => ({ detected: true }), compile };
}

describe('compile context: run and $', () => {
  it('streams stdout and stderr line by line, indented seven spaces, as they come', async () => {
    const seen: { line: string; at: number }[] = [];
    const start = Date.now();
    const bp = withCompile('streamer', async (ctx) => {
      const r = await ctx.run('bash', ['-c', 'echo one; sleep 0.4; echo two >&2; printf partial']);
      expect(r).to.deep.include({ code: 0, stdout: 'one\npartial', stderr: 'two\n' });
    });
    const r = await testBuildpack(bp, fixture('static'), {
      onLine: (line) => seen.push({ line, at: Date.now() - start }),
    });
    const one = seen.find((s) => s.line === '       one');
    const two = seen.find((s) => s.line === '       two');
    expect(one, 'first line').to.not.equal(undefined);
    expect(two, 'second line').to.not.equal(undefined);
    expect(r.log).to.include('       partial');
    // Streamed: the first line arrived before the command ended, not all at once at the end.
    expect(two!.at - one!.at).to.be.greaterThan(300);
    await r.cleanup();
  });

  it('gives commands the platform env, config vars, STACK and options.env', async () => {
    let out = '';
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax, not a JS template
    const script = 'echo "$GREETING|$STACK|$EXTRA|${HOME:+home}"';
    const bp = withCompile('envy', async (ctx) => {
      out = (await ctx.run('bash', ['-c', script], { env: { EXTRA: 'x' }, stream: false })).stdout;
    });
    const r = await testBuildpack(bp, fixture('static'), { env: { GREETING: 'hello world' } });
    expect(out).to.equal('hello world|slipway-13|x|home\n');
    expect(r.log.join('\n')).to.not.include('hello world|');
    await r.cleanup();
  });

  it('fails with a coded error naming the command, exit code and last stderr lines', async () => {
    const bp = withCompile('failing', async (ctx) => {
      await ctx.run('bash', ['-c', 'echo installing; echo "npm ERR! missing script: build" >&2; exit 3']);
    });
    const lines: string[] = [];
    const err = await testBuildpack(bp, fixture('static'), { onLine: (l) => lines.push(l) }).catch((e) => e);
    expect(isSlipwayError(err, 'SLIPWAY_ERR_BUILDPACK_COMMAND_FAILED')).to.equal(true);
    expect(err.message).to.include("`bash -c 'echo installing;");
    expect(err.message).to.include('exited with code 3');
    expect(err.message).to.include('npm ERR! missing script: build');
    expect(err.plugin).to.equal('buildpack failing');
    expect(lines).to.include('       installing');
  });

  it('resolves on failure with allowFailure, and passes stdin from input', async () => {
    const results: unknown[] = [];
    const bp = withCompile('lenient', async (ctx) => {
      results.push(await ctx.run('bash', ['-c', 'exit 7'], { allowFailure: true }));
      results.push((await ctx.run('cat', [], { input: 'from stdin' })).stdout);
    });
    const r = await testBuildpack(bp, fixture('static'));
    expect(results).to.deep.equal([{ code: 7, stdout: '', stderr: '' }, 'from stdin']);
    await r.cleanup();
  });

  it('finishes when the command exits even if a process it left behind holds its output open', async function () {
    this.timeout(15000);
    const dir = await mkdtemp(join(tmpdir(), 'slipway-daemon-'));
    const pidFile = join(dir, 'pid');
    let took = 0;
    const bp = withCompile('daemon', async (ctx) => {
      const t = Date.now();
      const r = await ctx.run('bash', ['-c', 'sleep 30 & echo $! > "$1"; echo started', 'bash', pidFile]);
      took = Date.now() - t;
      expect(r.stdout).to.equal('started\n');
    });
    const r = await testBuildpack(bp, fixture('static'));
    expect(took).to.be.lessThan(5000);
    expect(r.log).to.include('       started');
    process.kill(Number((await readFile(pidFile, 'utf8')).trim()), 'SIGKILL');
    await r.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('names a program that does not exist', async () => {
    const bp = withCompile('missing', async (ctx) => {
      await ctx.run('slipway-no-such-program', ['--version']);
    });
    const err = await testBuildpack(bp, fixture('static')).catch((e) => e);
    expect(err.code).to.equal('SLIPWAY_ERR_BUILDPACK_COMMAND_NOT_FOUND');
    expect(err.message).to.include('slipway-no-such-program');
  });

  it('streams zx $ output to the log, bound to the build dir and env', async () => {
    let pwd = '';
    const bp = withCompile('zx', async (ctx) => {
      pwd = (await ctx.$`pwd`).stdout.trim();
      await ctx.$`echo ${'quoted; not run'} "$GREETING"`;
    });
    const r = await testBuildpack(bp, fixture('static'), { env: { GREETING: 'hi' } });
    expect(pwd).to.equal(r.buildDir);
    expect(r.log).to.include('       quoted; not run hi');
    await r.cleanup();
  });

  it('keeps commands in the build process group, so a platform killing its build worker takes them too', async () => {
    const mine = readFileSync(`/proc/${process.pid}/stat`, 'utf8');
    const myGroup = mine.slice(mine.lastIndexOf(')') + 2).split(' ')[2];
    let theirs = '';
    const bp = withCompile('group', async (ctx) => {
      theirs = (
        await ctx.run('bash', ['-c', 'cut -d" " -f5 /proc/$$/stat'], { stream: false })
      ).stdout.trim();
    });
    const r = await testBuildpack(bp, fixture('static'));
    expect(theirs).to.equal(myGroup);
    await r.cleanup();
  });

  it('kills a hung command and its children on timeout with a coded error', async function () {
    this.timeout(20000);
    const dir = await mkdtemp(join(tmpdir(), 'slipway-hang-'));
    const pidFile = join(dir, 'pids');
    const bp = withCompile('hang', async (ctx) => {
      // A child that forks a grandchild: both must die, not just the direct child.
      await ctx.run('bash', ['-c', 'sleep 300 & echo "$$ $!" > "$1"; wait', 'bash', pidFile]);
    });
    const started = Date.now();
    const err = await testBuildpack(bp, fixture('static'), { timeoutMs: 1500 }).catch((e) => e);
    expect(isSlipwayError(err, 'SLIPWAY_ERR_BUILD_TIMEOUT')).to.equal(true);
    expect(err.message).to.include('compile (hang)');
    expect(Date.now() - started).to.be.lessThan(6000);
    const pids = (await readFile(pidFile, 'utf8')).trim().split(' ').map(Number);
    for (let i = 0; i < 30 && pids.some(alive); i++) await sleep(100);
    expect(pids.filter(alive), 'processes left running').to.deep.equal([]);
    await rm(dir, { recursive: true, force: true });
  });

  it('kills a hung zx command on timeout too', async function () {
    this.timeout(20000);
    const dir = await mkdtemp(join(tmpdir(), 'slipway-hang-'));
    const pidFile = join(dir, 'pid');
    const bp = withCompile('hangzx', async (ctx) => {
      await ctx.$`sleep 300 & echo $! > ${pidFile}; wait`;
    });
    const err = await testBuildpack(bp, fixture('static'), { timeoutMs: 1500 }).catch((e) => e);
    expect(err.code).to.equal('SLIPWAY_ERR_BUILD_TIMEOUT');
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    for (let i = 0; i < 30 && alive(pid); i++) await sleep(100);
    expect(alive(pid), 'sleep still running').to.equal(false);
    await rm(dir, { recursive: true, force: true });
  });

  it('times out a buildpack that hangs in JavaScript', async () => {
    const bp = withCompile('stuck', () => new Promise<void>(() => {}));
    const err = await testBuildpack(bp, fixture('static'), { timeoutMs: 300 }).catch((e) => e);
    expect(err.code).to.equal('SLIPWAY_ERR_BUILD_TIMEOUT');
  });
});

describe('stripAnsi', () => {
  it('removes colour and cursor sequences that tools print despite being told not to', async () => {
    const { stripAnsi } = await import('./run.js');
    expect(stripAnsi('\u001b[1;34m[INFO]\u001b[0m Building jar')).to.equal('[INFO] Building jar');
    expect(stripAnsi('\u001b]0;title\u0007done \u001b[2K')).to.equal('done ');
  });
});
