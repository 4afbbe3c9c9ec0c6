/**
 * Language runtimes from Debian's packages, for the root the build runs in: the suite and mirror
 * come from that root's apt sources (in a stack's build root, the stack's Debian release), the
 * package list from the mirror's `Packages.xz` once it matches the suite's signed `InRelease`
 * (debian-release.ts; the list is kept a day in the cache), each `.deb` is checked
 * against the list's SHA-256 and unpacked with `dpkg-deb -x` into a prefix the buildpack chooses
 * (in the slug, so dynos run the very same files on any runtime). Absolute symlinks inside the
 * unpacked tree are made relative, so the prefix works wherever the slug is unpacked.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, readlink, rm, symlink } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { releaseHashes, verifiedRelease } from './debian-release.js';
import { buildpackErrors } from './errors.js';
import { cachedList, downloadVerified, fetchChecked } from './runtime-install.js';

const execFileP = promisify(execFile);

/** The Debian release a root's apt uses. */
export interface DebianSource {
  mirror: string;
  suite: string;
}

/** One binary package of a suite. */
export interface DebianPackage {
  name: string;
  version: string;
  /** Path of the `.deb` under the mirror. */
  filename: string;
  sha256: string;
}

/** The first Debian mirror and suite of `root`'s apt sources (one-line or deb822), if any. */
export async function debianSource(root = '/'): Promise<DebianSource | undefined> {
  const text = [
    await readFile(join(root, 'etc/apt/sources.list'), 'utf8').catch(() => ''),
    ...(await Promise.all(
      (
        await readdir(join(root, 'etc/apt/sources.list.d')).catch(() => [] as string[])
      )
        .filter((f) => f.endsWith('.sources') || f.endsWith('.list'))
        .sort()
        .map((f) => readFile(join(root, 'etc/apt/sources.list.d', f), 'utf8').catch(() => '')),
    )),
  ].join('\n');
  const line = /^deb\s+(?:\[[^\]]*\]\s+)?(https?:\/\/\S+)\s+(\S+)\s/m.exec(text);
  if (line?.[1] && line[2]) return { mirror: line[1].replace(/\/$/, ''), suite: line[2] };
  const uri = /^URIs:\s*(https?:\/\/\S+)/m.exec(text)?.[1];
  const suite = /^Suites:\s*(\S+)/m.exec(text)?.[1];
  return uri && suite ? { mirror: uri.replace(/\/$/, ''), suite } : undefined;
}

/**
 * Debian releases the mirror still carries, oldest first (older ones move to archive.debian.org).
 * A package built for one runs on the releases after it (glibc and the sonames it links keep
 * their ABI), so a runtime the root's release no longer carries comes from an earlier release:
 * trixie has no python3.11 or openjdk-17, and bookworm's run there.
 */
const DEBIAN_RELEASES: readonly string[] = ['bookworm', 'trixie', 'forky'];

/** Suite names apt sources use for a release (as of trixie's release). */
const SUITE_ALIASES: Readonly<Record<string, string>> = {
  oldstable: 'bookworm',
  stable: 'trixie',
  testing: 'forky',
};

/**
 * `source`, then the releases before its suite on the same mirror, newest first (all of them
 * for unstable); only `source` when its suite is none Slipway knows the order of.
 */
export function debianSuitesFrom(source: DebianSource): DebianSource[] {
  const suite = SUITE_ALIASES[source.suite] ?? source.suite;
  const at = /^(sid|unstable)$/.test(suite) ? DEBIAN_RELEASES.length : DEBIAN_RELEASES.indexOf(suite);
  const earlier = at > 0 ? DEBIAN_RELEASES.slice(0, at).reverse() : [];
  return [source, ...earlier.map((s) => ({ mirror: source.mirror, suite: s }))];
}

/**
 * The first of `source` and the releases before it (`debianSuitesFrom`) that carries every one
 * of `names`, with those packages; undefined when none does. An earlier release the mirror no
 * longer answers for is passed over; the root's own suite failing is an error, as before.
 */
export async function debianPackagesFrom(
  source: DebianSource,
  names: readonly string[],
  cacheDir: string,
  tool: string,
): Promise<{ source: DebianSource; packages: DebianPackage[] } | undefined> {
  for (const s of debianSuitesFrom(source)) {
    const found = await debianPackages(s, names, cacheDir, tool).catch((e: unknown) => {
      if (s === source) throw e;
      return new Map<string, DebianPackage>();
    });
    const packages = names.map((n) => found.get(n));
    if (packages.every((p) => p)) return { source: s, packages: packages as DebianPackage[] };
  }
  return undefined;
}

/** glibc of the running root (`2.41`), or undefined when not glibc. */
export function runningGlibc(): string | undefined {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)
    ?.header;
  return header?.glibcVersionRuntime;
}

/** True when glibc `have` (`2.41`) is at least `need` (`2.38`). */
export function glibcAtLeast(have: string | undefined, need: string): boolean {
  if (!have) return false;
  const [a = 0, b = 0] = have.split('.').map(Number);
  const [c = 0, d = 0] = need.split('.').map(Number);
  return a > c || (a === c && b >= d);
}

/** Parse the stanzas of a `Packages` file, keeping the packages `wanted` names. */
export function parsePackages(text: string, wanted: ReadonlySet<string>): DebianPackage[] {
  const out: DebianPackage[] = [];
  for (const stanza of text.split(/\n\n+/)) {
    const name = /^Package: (\S+)$/m.exec(stanza)?.[1];
    if (!name || !wanted.has(name)) continue;
    const version = /^Version: (\S+)$/m.exec(stanza)?.[1];
    const filename = /^Filename: (\S+)$/m.exec(stanza)?.[1];
    const sha256 = /^SHA256: ([0-9a-f]{64})$/m.exec(stanza)?.[1];
    if (version && filename && sha256) out.push({ name, version, filename, sha256 });
  }
  return out;
}

/**
 * The packages of `names` that `source` carries (main, amd64), from a list kept in `cacheDir`
 * for a day: a warm build asks the mirror nothing.
 */
export async function debianPackages(
  source: DebianSource,
  names: readonly string[],
  cacheDir: string,
  tool: string,
): Promise<Map<string, DebianPackage>> {
  const url = `${source.mirror}/dists/${source.suite}/main/binary-amd64/Packages.xz`;
  const key = `debian-${source.suite}-${[...names].sort().join(',')}`.replace(/[^a-z0-9.,+-]/gi, '_');
  const list = await cachedList(
    cacheDir,
    key.slice(0, 200),
    24 * 3600_000,
    async () => {
      // The list is the one the suite's signed InRelease names (debian-release.ts), or none.
      const signed = releaseHashes(await verifiedRelease(source, tool)).get('main/binary-amd64/Packages.xz');
      const xz = await fetchChecked({ tool, version: 'list' }, url, {}, async (r) =>
        Buffer.from(await r.arrayBuffer()),
      );
      const sha256 = createHash('sha256').update(xz).digest('hex');
      if (!signed || signed.sha256 !== sha256)
        throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_RUNTIME_DOWNLOAD({
          tool,
          version: 'list',
          url,
          detail: signed
            ? `its SHA-256 ${sha256} is not the ${signed.sha256} the suite's signed InRelease gives; nothing from it is used`
            : "the suite's signed InRelease names no main/binary-amd64/Packages.xz",
        });
      const text = await new Promise<string>((resolve, reject) => {
        const child = execFile('xz', ['-dc'], { maxBuffer: 512 << 20, encoding: 'utf8' }, (e, out) =>
          e ? reject(e) : resolve(out),
        );
        child.stdin?.end(xz);
      });
      return parsePackages(text, new Set(names));
    },
    { from: url },
  );
  return new Map(list.map((p) => [p.name, p]));
}

/**
 * Download `packages` from `source` (checked) and unpack them into `prefix`; absolute symlinks
 * in the tree are rewritten relative to it. The `.deb` files are kept in `cacheDir/debs`.
 */
export async function unpackDebianPackages(
  source: DebianSource,
  packages: readonly DebianPackage[],
  prefix: string,
  cacheDir: string,
  tool: string,
): Promise<void> {
  await mkdir(prefix, { recursive: true });
  for (const p of packages) {
    const deb = join(cacheDir, 'debs', `${p.name}_${p.version.replace(/:/g, '%3a')}.deb`);
    const have = await readFile(deb).then(
      () => true,
      () => false,
    );
    if (!have)
      await downloadVerified({ tool, version: p.version }, `${source.mirror}/${p.filename}`, deb, {
        sha256: p.sha256,
      });
    await execFileP('dpkg-deb', ['-x', deb, prefix]);
  }
  await relativeLinks(prefix, prefix);
}

/** Rewrite each absolute symlink under `dir` to point at the same path inside `prefix`. */
async function relativeLinks(dir: string, prefix: string): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await relativeLinks(p, prefix);
    else if (e.isSymbolicLink()) {
      const target = await readlink(p);
      if (!target.startsWith('/')) continue;
      await rm(p);
      await symlink(relative(dirname(p), join(prefix, target)) || '.', p);
    }
  }
}
