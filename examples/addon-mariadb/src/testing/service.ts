/**
 * Test helper: run the provider the way it is deployed, as its own process (`node dist/main.js`),
 * and stop it like an operator would (SIGTERM). Also finds whether MariaDB is installed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));

/** True when mariadbd and mariadb-install-db are installed where the provider looks. */
export async function mariadbInstalled(): Promise<boolean> {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin', '/usr/bin'];
  const has = async (n: string) => {
    for (const d of dirs)
      if (
        await access(`${d}/${n}`).then(
          () => true,
          () => false,
        )
      )
        return true;
    return false;
  };
  return (await has('mariadbd')) && (await has('mariadb-install-db'));
}

/** A running provider service. */
export interface Service {
  child: ChildProcess;
  /** Its partner API base URL (…/heroku/resources). */
  url: string;
  output(): string;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
}

/** Start the service with `args`; resolves once it prints where it listens. */
export function startService(args: string[], password: string, timeoutMs = 90_000): Promise<Service> {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { ...process.env, SLIPWAY_ADDON_PASSWORD: password },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`the service did not start within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (c: Buffer) => {
      out += c.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, output: () => out, stop });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the service exited with ${code} before listening:\n${out}`));
    });
  });
}
