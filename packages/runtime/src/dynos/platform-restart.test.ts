import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { RouteTarget } from '@slipway/router';
import { expect } from 'chai';
import { get, packSlug, tempDataDir, waitFor } from './dyno-test-kit.test-helper.js';
import { LocalDynoRuntime } from './local-runtime.js';

const MAIN = fileURLToPath(new URL('../../test/fixtures/platform-proc/main.mjs', import.meta.url));

/** Start the fixture platform process; resolves with it and the web targets it prints. */
async function platform(args: string[]): Promise<{ proc: ChildProcess; targets: RouteTarget[] }> {
  const proc = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once('line', resolve);
    proc.once('exit', (code) =>
      reject(new Error(`platform exited with ${code} before printing its targets`)),
    );
  });
  return { proc, targets: JSON.parse(line) };
}

const killed = (p: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) return resolve();
    p.once('exit', () => resolve());
    p.kill('SIGKILL');
  });

describe('platform SIGKILL and restart (real platform processes)', function () {
  this.timeout(60_000);
  let data: Awaited<ReturnType<typeof tempDataDir>>;
  const procs: ChildProcess[] = [];

  before(async () => {
    data = await tempDataDir();
  });
  after(async () => {
    for (const p of procs) await killed(p);
    // What the last platform left behind is killed the same way a restart would.
    await new LocalDynoRuntime({ dataDir: data.dir, slugStore: (await packSlug(data.dir)).store }).init();
    await data?.cleanup();
  });

  it('ends with the formation running and serving, and no dyno of the killed platform left', async () => {
    const { slug } = await packSlug(data.dir);
    const args = [data.dir, slug.checksum, String(slug.size)];
    const first = await platform(args);
    procs.push(first.proc);
    expect(first.targets).to.have.length(2);
    for (const t of first.targets)
      expect((await get(t.port, '/')).body).to.equal(`pid${first.proc.pid} ${t.dyno}`);

    await killed(first.proc);
    // Its dynos die with it (nothing could route to them any more), orphaned or not.
    for (const t of first.targets)
      await waitFor(
        `${t.dyno} of the killed platform to die`,
        () =>
          get(t.port, '/').then(
            () => false,
            () => true,
          ),
        5000,
      );

    const second = await platform(args);
    procs.push(second.proc);
    expect(second.targets).to.have.length(2);
    for (const t of second.targets)
      expect((await get(t.port, '/')).body).to.equal(`pid${second.proc.pid} ${t.dyno}`);
    const oldPorts = first.targets
      .map((t) => t.port)
      .filter((p) => !second.targets.some((t) => t.port === p));
    for (const p of oldPorts)
      await waitFor(
        `old dyno on ${p} to be gone`,
        () =>
          get(p, '/').then(
            () => false,
            () => true,
          ),
        5000,
      );
  });
});
