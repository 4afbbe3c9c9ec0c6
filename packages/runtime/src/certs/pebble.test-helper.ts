/**
 * Pebble, Let's Encrypt's test ACME server, and pebble-challtestsrv as its DNS, on loopback:
 * Pebble validates http-01 against the platform's router (its `httpPort`), names resolve to
 * 127.0.0.1 unless a test points one elsewhere. Installed by `.ci/run` with `go install`
 * (in `$HOME/go/bin`); a missing binary fails under `CI=true`, else the tests skip loudly.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import https from 'node:https';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from '@slipway/core';
import type { TestCa } from './test-certs.test-helper.js';

/** Where a Go-installed binary may be. */
export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), join(homedir(), 'go', 'bin')];
  if (process.env.GOPATH) dirs.push(join(process.env.GOPATH, 'bin'));
  return dirs.map((d) => join(d, name)).find((f) => existsSync(f));
}

/** A free loopback port (for a server that must know another's port before it starts). */
export { freePort };

/** A running Pebble and its DNS. */
export class Pebble {
  private readonly procs: ChildProcess[] = [];
  readonly output: string[] = [];
  directoryUrl = '';
  private mgmt = 0;
  private dnsMgmt = 0;
  private lastError: Error | undefined;

  private constructor(
    private readonly bins: { pebble: string; challtestsrv: string },
    private readonly ca: TestCa,
  ) {}

  /** The binaries, or undefined when one is missing. */
  static binaries(): { pebble: string; challtestsrv: string } | undefined {
    const pebble = findBinary('pebble');
    const challtestsrv = findBinary('pebble-challtestsrv');
    return pebble && challtestsrv ? { pebble, challtestsrv } : undefined;
  }

  /**
   * Start both, Pebble validating against `httpPort` and issuing certificates valid for
   * `validitySeconds`; its own HTTPS uses a certificate of `ca`.
   */
  static async start(
    bins: { pebble: string; challtestsrv: string },
    ca: TestCa,
    dir: string,
    httpPort: number,
    validitySeconds = 7_776_000,
  ): Promise<Pebble> {
    const p = new Pebble(bins, ca);
    await p.boot(dir, httpPort, validitySeconds);
    return p;
  }

  private spawn(cmd: string, args: string[], env: Record<string, string> = {}): void {
    const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    for (const s of [proc.stdout, proc.stderr]) s?.on('data', (d) => this.output.push(String(d)));
    this.procs.push(proc);
  }

  private async boot(dir: string, httpPort: number, validitySeconds: number): Promise<void> {
    const [dns, dnsMgmt, listen, mgmt] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    this.dnsMgmt = dnsMgmt;
    this.mgmt = mgmt;
    this.spawn(this.bins.challtestsrv, [
      '-dnsserver',
      `127.0.0.1:${dns}`,
      '-management',
      `127.0.0.1:${dnsMgmt}`,
      '-defaultIPv4',
      '127.0.0.1',
      '-defaultIPv6',
      '',
      '-http01',
      '',
      '-https01',
      '',
      '-tlsalpn01',
      '',
      '-doh',
      '',
    ]);
    const tlsPair = await this.ca.leaf('pebble', ['127.0.0.1', 'localhost']);
    const config = join(dir, 'pebble.json');
    await writeFile(
      config,
      JSON.stringify({
        pebble: {
          listenAddress: `127.0.0.1:${listen}`,
          managementListenAddress: `127.0.0.1:${mgmt}`,
          certificate: tlsPair.certFile,
          privateKey: tlsPair.keyFile,
          httpPort,
          tlsPort: await freePort(),
          ocspResponderURL: '',
          externalAccountBindingRequired: false,
          retryAfter: { authz: 1, order: 1 },
          keyAlgorithm: 'ecdsa',
          profiles: { default: { description: 'test', validityPeriod: validitySeconds } },
        },
      }),
    );
    // No random sleep before validation, no nonce rejections: fast and deterministic.
    this.spawn(this.bins.pebble, ['-config', config, '-dnsserver', `127.0.0.1:${dns}`], {
      PEBBLE_VA_NOSLEEP: '1',
      PEBBLE_WFE_NONCEREJECT: '0',
    });
    this.directoryUrl = `https://127.0.0.1:${listen}/dir`;
    const end = Date.now() + 20_000;
    for (;;) {
      try {
        await this.get(this.directoryUrl);
        const res = await fetch(`http://127.0.0.1:${dnsMgmt}/clear-request-history`, {
          method: 'POST',
          body: '{"host":"x","type":"dns"}',
        });
        if (res.status < 500) return;
      } catch (e) {
        // not up yet
        this.lastError = e as Error;
      }
      if (Date.now() > end)
        throw new Error(`pebble did not start (${this.lastError?.message}):\n${this.output.join('')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private get(url: string): Promise<string> {
    return new Promise((resolve, reject) => {
      https
        .get(
          url,
          { ca: this.ca.rootPem, agent: false, headers: { 'user-agent': 'slipway-tests' } },
          (res) => {
            let body = '';
            res.on('data', (d) => {
              body += d;
            });
            res.on('end', () =>
              res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: ${res.statusCode}`)),
            );
          },
        )
        .on('error', reject);
    });
  }

  /** The root that Pebble's certificates chain up to (made fresh at each start). */
  root(): Promise<string> {
    return this.get(`https://127.0.0.1:${this.mgmt}/roots/0`);
  }

  /** Make `host` resolve to `address` (e.g. somewhere the router is not). */
  async pointAt(host: string, address: string): Promise<void> {
    const res = await fetch(`http://127.0.0.1:${this.dnsMgmt}/add-a`, {
      method: 'POST',
      body: JSON.stringify({ host: `${host}.`, addresses: [address] }),
    });
    if (!res.ok) throw new Error(`challtestsrv add-a: ${res.status}`);
  }

  async stop(): Promise<void> {
    for (const p of this.procs) p.kill('SIGTERM');
    await Promise.all(
      this.procs.map((p) => (p.exitCode !== null ? undefined : new Promise((r) => p.once('exit', r)))),
    );
  }
}
