/**
 * The signed index of a Debian suite, as apt trusts it: `dists/<suite>/InRelease`, whose
 * signature is checked against the Debian archive keyring of the root the build runs in, names
 * the SHA-256 of every package list. A `Packages.xz` is used only when it matches: the mirror
 * is reached over plain HTTP, so without this a network in between could hand a build any
 * Python or JDK, which the `.deb` checksums (taken from that very list) would then vouch for.
 * The check is gpgv's (bookworm's apt) or sqv's (Sequoia, trixie's apt), whichever the root has.
 */
import { execFile } from 'node:child_process';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isSlipwayError } from '@slipway/core';
import type { DebianSource } from './debian-packages.js';
import { buildpackErrors } from './errors.js';
import { fetchChecked } from './runtime-install.js';

const execFileP = promisify(execFile);

/** Debian's archive keyring (`debian-archive-keyring`, which apt depends on). */
const DEBIAN_ARCHIVE_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/** One file an `InRelease` names: its SHA-256 and size. */
export interface ReleaseEntry {
  sha256: string;
  size: number;
}

/** The `SHA256:` entries of a (verified) Release text, by path (`main/binary-amd64/Packages.xz`). */
export function releaseHashes(text: string): Map<string, ReleaseEntry> {
  const out = new Map<string, ReleaseEntry>();
  const section = /^SHA256:\n((?:[ \t].*\n?)*)/m.exec(text)?.[1] ?? '';
  for (const line of section.split('\n')) {
    const m = /^\s+([0-9a-f]{64})\s+(\d+)\s+(\S+)\s*$/.exec(line);
    if (m?.[1] && m[2] && m[3]) out.set(m[3], { sha256: m[1], size: Number(m[2]) });
  }
  return out;
}

/**
 * The verified `InRelease` of `source`'s suite: fetched, its signature checked against the
 * root's Debian archive keyring, and its signed text returned. Any failure is a coded error
 * naming what failed.
 */
export async function verifiedRelease(source: DebianSource, tool: string): Promise<string> {
  const keyring = DEBIAN_ARCHIVE_KEYRING;
  const url = `${source.mirror}/dists/${source.suite}/InRelease`;
  const fail = (detail: string, cause?: unknown) =>
    buildpackErrors.SLIPWAY_ERR_BUILDPACK_RUNTIME_DOWNLOAD({ tool, version: 'list', url, detail }, { cause });
  if (
    !(await access(keyring).then(
      () => true,
      () => false,
    ))
  )
    throw fail(
      `no Debian archive keyring at ${keyring} to check its signature (apt-get install debian-archive-keyring)`,
    );
  const signed = await fetchChecked({ tool, version: 'list' }, url, {}, async (r) =>
    Buffer.from(await r.arrayBuffer()),
  );
  const dir = await mkdtemp(join(tmpdir(), 'slipway-inrelease-'));
  try {
    const file = join(dir, 'InRelease');
    const out = join(dir, 'Release');
    await writeFile(file, signed);
    const verifiers: [string, string[]][] = [
      ['gpgv', ['--keyring', keyring, '--output', out, file]],
      ['sqv', ['--keyring', keyring, '--cleartext', '--output', out, file]],
    ];
    let refused: string | undefined;
    for (const [cmd, args] of verifiers) {
      try {
        await execFileP(cmd, args, { maxBuffer: 1 << 20 });
        const text = await readFile(out, 'utf8');
        // Signed, but for this suite? A release of another suite is signed as well.
        const names = ['Suite', 'Codename'].map((f) => new RegExp(`^${f}: (\\S+)$`, 'm').exec(text)?.[1]);
        if (!names.includes(source.suite))
          throw fail(
            `it is the Release of ${names.filter(Boolean).join('/') || 'no named suite'}, not of ${source.suite}`,
          );
        return text;
      } catch (e) {
        if (isSlipwayError(e)) throw e;
        const err = e as NodeJS.ErrnoException & { stderr?: string };
        if (err.code === 'ENOENT') continue;
        refused = `${cmd}: ${(err.stderr ?? err.message).trim().split('\n').slice(-3).join(' ')}`;
        break;
      }
    }
    throw fail(
      refused
        ? `its signature does not verify against ${keyring} (${refused}); nothing from this list is used`
        : 'neither gpgv nor sqv is installed to check its signature (apt-get install gpgv)',
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
