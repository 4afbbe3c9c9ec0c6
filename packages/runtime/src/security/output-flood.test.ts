/**
 * Issue 11 (4): an app's output must not be able to take the platform down or slow other
 * apps. A real `slipway start` process with two apps; one-off dynos of the attacker write a
 * 1 GB line without a newline (it crashed the platform at 512 MB with `RangeError: Invalid
 * string length`; 300 MB took it from 166 MB to 1 GB RSS) and then flood their logs, while
 * the victim's requests are counted. The platform's RSS is sampled throughout.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  CLI,
  eventually,
  fixtureCopy,
  loadGenerator,
  nodeOnlyConfig,
  PlatformProcess,
  removeFixtureCopies,
} from '../platform-harness.test-helper.js';
import { cpuSecondsOf, rssOf, sampleRss } from './process-scan.test-helper.js';

const MB = 1024 * 1024;
/** The bound for the platform's RSS through the attacks. */
const RSS_LIMIT = 300 * MB;

describe('dyno output cannot exhaust the platform (real platform, two apps)', function () {
  this.timeout(600_000);
  let dataDir: string;
  let p: PlatformProcess;
  let baseline = 0;
  /** The victim's requests per second with no attack, on this machine now. */
  let quietRate = 0;
  /** The platform's CPU seconds per second serving that. */
  let quietCpu = 0;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'slipway-flood-'));
    const args = ['--config', await nodeOnlyConfig(await mkdtemp(join(tmpdir(), 'slipway-cfg-')))];
    p = await PlatformProcess.start(dataDir, args);
    for (const app of ['victim', 'attacker']) {
      await p.ok(['apps:create', app]);
      await p.ok(['deploy', await fixtureCopy('hello', { VERSION: app }), '-a', app]);
    }
    baseline = await rssOf(p.child.pid as number);
    const cpu0 = await cpuSecondsOf(p.child.pid as number);
    const load = loadGenerator(p, 'victim', 4);
    await new Promise((r) => setTimeout(r, 10_000));
    const quiet = await load.stop();
    quietCpu = ((await cpuSecondsOf(p.child.pid as number)) - cpu0) / 10;
    expect(quiet.failed, quiet.failures.slice(0, 5).join('\n')).to.equal(0);
    quietRate = quiet.ok / 10;
  });
  after(async () => {
    await p?.kill('SIGTERM');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    await removeFixtureCopies();
  });

  /** Run a detached one-off of the attacker and wait for it to finish. */
  async function attack(
    command: string,
  ): Promise<{ peak: number; ok: number; failed: number; ms: number; cpu: number }> {
    const cpu0 = await cpuSecondsOf(p.child.pid as number);
    const rss = sampleRss(p.child.pid as number, 50);
    const load = loadGenerator(p, 'victim', 4);
    const t0 = Date.now();
    const started = await p.ok(['run:detached', '-a', 'attacker', '--', command]);
    const dyno = /up, (run\.\d+)/.exec(started)?.[1] as string;
    const finished = await eventually(async () => exited(dyno), 300_000);
    const ms = Date.now() - t0;
    const stats = await load.stop();
    const peak = await rss.stop();
    const cpu = (await cpuSecondsOf(p.child.pid as number)) - cpu0;
    expect(finished, 'the one-off finished').to.equal(true);
    expect(p.child.exitCode, `the platform is alive:\n${p.output.slice(-2000)}`).to.equal(null);
    expect(stats.failed, stats.failures.slice(0, 5).join('\n')).to.equal(0);
    return { peak, ok: stats.ok, failed: stats.failed, ms, cpu };
  }

  const rate = (r: { ok: number; ms: number }) => `${(r.ok / (r.ms / 1000)).toFixed(0)}/s`;

  /** Whether the one-off's exit is logged (the newest lines: the flood cannot have pushed it out). */
  async function exited(dyno: string): Promise<boolean> {
    const lines = await p.ok(['logs', '-a', 'attacker', '--source', 'slipway', '--dyno', dyno, '-n', '1500']);
    return /Process exited with status/.test(lines);
  }

  it('survives a 1 GB line without a newline with bounded RSS; the other app keeps serving', async () => {
    const r = await attack("head -c 1073741824 /dev/zero | tr '\\0' x");
    console.log(
      `      1 GB line: platform RSS ${Math.round(baseline / MB)} MB before, peak ${Math.round(r.peak / MB)} MB; ` +
        `victim ${r.ok} requests ok, ${r.failed} failed in ${(r.ms / 1000).toFixed(1)} s ` +
        `(${rate(r)} vs ${quietRate.toFixed(0)}/s with no attack); platform CPU ${(r.cpu / (r.ms / 1000)).toFixed(2)} s/s vs ${quietCpu.toFixed(2)} s/s`,
    );
    expect(r.peak).to.be.below(RSS_LIMIT);
    const logs = await p.ok(['logs', '-a', 'attacker', '--source', 'app', '-n', '20']);
    const pieces = logs.split('\n').filter((l) => / app\[run\.\d+\]: x+$/.test(l));
    expect(pieces.length).to.be.greaterThan(0);
    for (const l of pieces) expect(l.slice(l.indexOf(']: ') + 3).length).to.be.at.most(10_000);
    const notices = await p.ok(['logs', '-a', 'attacker', '--source', 'slipway', '-n', '1500']);
    expect(notices).to.match(/Error L10 \(output buffer overflow\): \d+ messages dropped since /);
  });

  it('survives a log flood with bounded RSS; the other app keeps serving', async () => {
    // As fast as the dyno can print, for 15 s: several hundred thousand lines a second.
    const r = await attack("timeout 15 yes 'flood flood flood flood flood flood flood flood' || true");
    console.log(
      `      log flood: platform RSS ${Math.round(baseline / MB)} MB before, peak ${Math.round(r.peak / MB)} MB; ` +
        `victim ${r.ok} requests ok, ${r.failed} failed in ${(r.ms / 1000).toFixed(1)} s ` +
        `(${rate(r)} vs ${quietRate.toFixed(0)}/s with no attack); platform CPU ${(r.cpu / (r.ms / 1000)).toFixed(2)} s/s vs ${quietCpu.toFixed(2)} s/s`,
    );
    expect(r.peak).to.be.below(RSS_LIMIT);
    expect(r.ok).to.be.greaterThan(0);
  });

  it('the CLI stops quietly when its reader goes away (`slipway logs | head -1`)', async () => {
    const r = await new Promise<{ code: string; stderr: string; first: string }>((resolve) => {
      execFile(
        'bash',
        [
          '-c',
          'node "$1" logs -a attacker -n 1500 2>"$2.err" | head -1; echo "$PIPESTATUS"; cat "$2.err"',
          'sh',
          CLI,
          join(dataDir, 'epipe'),
        ],
        { env: { ...process.env, SLIPWAY_DATA_DIR: dataDir, SLIPWAY_API_URL: '', SLIPWAY_TOKEN: '' } },
        (_err, stdout) => {
          const [first = '', code = '', ...rest] = stdout.split('\n');
          resolve({ first, code, stderr: rest.join('\n') });
        },
      );
    });
    expect(r.first).to.match(/^\d{4}-\d\d-\d\dT/);
    expect(r.stderr.trim(), 'nothing on stderr').to.equal('');
    expect(r.code).to.equal('0');
  });
});
