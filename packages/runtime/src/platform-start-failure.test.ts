/**
 * A start that fails part-way (here: the router's port is taken) reports the coded error and
 * the process exits, with the add-on servers the plugins had started stopped again (they used
 * to keep it alive, silent, forever).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { CLI } from './platform-harness.test-helper.js';

describe('slipway start that fails part-way', function () {
  this.timeout(120_000);
  let dir: string;
  let blocker: Server;
  after(async () => {
    blocker?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('exits with the coded error and stops the add-on servers it started', async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-start-fail-'));
    await chmod(dir, 0o755); // dynos run as nobody when tests run as root
    blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    const mail = fileURLToPath(new URL('../../addons/mail', import.meta.url));
    await writeFile(join(dir, 'slipway.config.json'), JSON.stringify({ defaults: false, plugins: [mail] }));
    const data = join(dir, 'data');
    const started = Date.now();
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [
          CLI,
          'start',
          '--data-dir',
          data,
          '--port',
          String(port),
          '--api-port',
          '0',
          '--config',
          join(dir, 'slipway.config.json'),
        ],
        { timeout: 90_000, env: { ...process.env, SLIPWAY_API_URL: '', SLIPWAY_TOKEN: '' } },
        (err, _out, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr }),
      ),
    );
    expect(r.code, r.stderr).to.equal(1);
    expect(Date.now() - started).to.be.lessThan(80_000);
    expect(r.stderr).to.include('(SLIPWAY_ERR_ROUTER_LISTEN)', r.stderr);
    // The mail add-on's SMTP daemon it had started is gone.
    const pidFile = join(data, 'addons', 'mail', 'smtp.pid');
    if (existsSync(pidFile)) {
      const pid = Number((await readFile(pidFile, 'utf8')).trim());
      expect(() => process.kill(pid, 0), `SMTP daemon ${pid} still runs`).to.throw();
    }
  });
});
