/**
 * Test certificates made by the openssl command line: a root CA, an intermediate CA, leaves
 * signed by the intermediate (the chain a real CA hands out), self-signed and expired ones.
 * Under `CI=true` a missing openssl fails the test; elsewhere it is skipped loudly.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A PEM certificate (chain) and key, with the files they are in. */
export interface TestPair {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

/** Makes certificates in `dir`, all issued by one test root through one intermediate. */
export class TestCa {
  private constructor(
    private readonly dir: string,
    /** PEM of the root: what a client trusts. */
    readonly rootPem: string,
  ) {}

  /** Create the root and the intermediate; throws when openssl is missing. */
  static async create(dir: string): Promise<TestCa> {
    const ca = join(dir, 'ca.ext');
    await writeFile(ca, 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
    await run('openssl', [
      'req',
      '-x509',
      ...EC,
      '-keyout',
      join(dir, 'root.key'),
      '-out',
      join(dir, 'root.crt'),
      '-days',
      '3',
      '-subj',
      '/CN=Slipway Test Root',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    await run('openssl', [
      'req',
      '-new',
      ...EC,
      '-keyout',
      join(dir, 'int.key'),
      '-out',
      join(dir, 'int.csr'),
      '-subj',
      '/CN=Slipway Test Intermediate',
    ]);
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      join(dir, 'int.csr'),
      '-CA',
      join(dir, 'root.crt'),
      '-CAkey',
      join(dir, 'root.key'),
      '-CAcreateserial',
      '-days',
      '3',
      '-extfile',
      ca,
      '-out',
      join(dir, 'int.crt'),
    ]);
    return new TestCa(dir, await readFile(join(dir, 'root.crt'), 'utf8'));
  }

  /**
   * A leaf for `names` (host names, or IPv4 addresses) signed by the intermediate; `cert` is leaf + intermediate. `days` -1
   * makes one that expired yesterday; `selfSigned` leaves the CA out.
   */
  async leaf(
    id: string,
    names: string[],
    opts: { days?: number; selfSigned?: boolean } = {},
  ): Promise<TestPair> {
    const d = this.dir;
    const ext = join(d, `${id}.ext`);
    await writeFile(
      ext,
      `subjectAltName=${names.map((n) => (/^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',')}\n`,
    );
    const keyFile = join(d, `${id}.key`);
    const csr = join(d, `${id}.csr`);
    const leafFile = join(d, `${id}.leaf.crt`);
    await run('openssl', ['req', '-new', ...EC, '-keyout', keyFile, '-out', csr, '-subj', `/CN=${names[0]}`]);
    const signer = opts.selfSigned
      ? ['-signkey', keyFile]
      : ['-CA', join(d, 'int.crt'), '-CAkey', join(d, 'int.key'), '-CAcreateserial'];
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      csr,
      ...signer,
      '-days',
      String(opts.days ?? 2),
      '-extfile',
      ext,
      '-out',
      leafFile,
    ]);
    const leaf = await readFile(leafFile, 'utf8');
    const cert = opts.selfSigned ? leaf : leaf + (await readFile(join(d, 'int.crt'), 'utf8'));
    const certFile = join(d, `${id}.crt`);
    await writeFile(certFile, cert);
    return { cert, key: await readFile(keyFile, 'utf8'), certFile, keyFile };
  }

  /** The intermediate's PEM (to build a chain in the wrong order). */
  intermediate(): Promise<string> {
    return readFile(join(this.dir, 'int.crt'), 'utf8');
  }
}

/** Make a TestCa, or fail under CI / skip loudly elsewhere when openssl is missing. */
export async function testCaOrSkip(ctx: Mocha.Context, dir: string): Promise<TestCa> {
  try {
    return await TestCa.create(dir);
  } catch (e) {
    if (process.env.CI === 'true')
      throw new Error(`these tests need openssl (apt-get install openssl): ${e}`);
    console.warn(`\n  !!! SKIPPED: certificate tests need the openssl command: ${(e as Error).message}\n`);
    ctx.skip();
  }
}
