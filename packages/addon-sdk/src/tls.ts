/**
 * TLS for the servers providers start (PostgreSQL, Redis): a self-signed certificate made once
 * with openssl, as Heroku's data services present certificates their clients do not verify
 * (`sslmode=require`, `rediss://` with verification off). The key is readable by its owner only.
 */
import { execFile } from 'node:child_process';
import { access, chmod } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Make `certFile`/`keyFile` (EC P-256, ten years, CN `commonName`) unless both exist. Returns true
 * when it made them. When openssl fails or is missing, throws an Error whose message is what it
 * said (the last lines of its stderr, or why it did not start): a provider's coded error quotes it.
 */
export async function selfSignedCertificate(
  certFile: string,
  keyFile: string,
  commonName: string,
): Promise<boolean> {
  const have = await Promise.all(
    [certFile, keyFile].map((f) =>
      access(f).then(
        () => true,
        () => false,
      ),
    ),
  );
  if (have.every(Boolean)) return false;
  // The args are fixed but for the paths and the name, passed as separate arguments.
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '3650',
    '-subj',
    `/CN=${commonName}`,
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ]).catch((e: { stderr?: string; message: string }) => {
    throw new Error((e.stderr || e.message).trim().split('\n').slice(-2).join(' '), { cause: e });
  });
  await chmod(keyFile, 0o600);
  return true;
}
