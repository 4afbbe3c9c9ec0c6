/**
 * `slipway stack:build`: make a stack's root filesystems from Debian's packages with
 * `debootstrap --variant=minbase` (run image and build variant), cache them under the stack
 * cache dir, and `docker import` them where an engine answers. A variant whose recipe digest
 * (suite, mirror, packages; stack-packages.ts) matches its cached root is not rebuilt, and an
 * image whose `slipway.stack.digest` label matches is not imported again. Nothing is pulled
 * from an image registry: everything comes from the Debian mirror the machine's apt uses.
 */
import { spawn } from 'node:child_process';
import { access, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type Docker from 'dockerode';
import { stackErrors } from './errors.js';
import {
  DEFAULT_STACK,
  STACK_SUITES,
  type StackVariant,
  stackRecipe,
  stackVariants,
} from './stack-packages.js';

/** Where stack roots live unless told otherwise (`SLIPWAY_STACK_CACHE` overrides). */
export const DEFAULT_STACK_CACHE = '/var/cache/slipway/stacks';

/** Options of `buildStack`. */
export interface BuildStackOptions {
  /** Stack name; default `slipway-13` (Debian trixie). */
  name?: string;
  /** Cache of roots and downloaded packages; default `$SLIPWAY_STACK_CACHE` or /var/cache/slipway/stacks. */
  cacheDir?: string;
  /** Debian mirror; default the first one the machine's apt sources name. */
  mirror?: string;
  /** Docker engine to import into; `false` never imports. Default: the local engine when it answers. */
  docker?: Docker | false;
  /** Only these variants; default both. */
  variants?: ('run' | 'build')[];
  /** Progress lines for the long wait. */
  onProgress?: (line: string) => void;
}

/** One built (or found) variant. */
export interface BuiltVariant extends StackVariant {
  root: string;
  /** True when the root was made now; false when the cached one matched. */
  built: boolean;
  /** `imported`, `current` (the engine had it), or `no-engine`. */
  docker: 'imported' | 'current' | 'no-engine';
}

/** The result of `buildStack`. */
export interface BuiltStack {
  name: string;
  suite: string;
  mirror: string;
  cacheDir: string;
  variants: BuiltVariant[];
}

/** The stack cache dir in effect. */
export function stackCacheDir(dir?: string): string {
  return dir ?? process.env.SLIPWAY_STACK_CACHE ?? DEFAULT_STACK_CACHE;
}

/** The first Debian mirror named by apt's sources (deb822 `URIs:` or one-line `deb` entries). */
export async function aptMirror(): Promise<string> {
  const files = ['/etc/apt/sources.list'];
  try {
    for (const f of (await readdir('/etc/apt/sources.list.d')).sort())
      if (f.endsWith('.sources') || f.endsWith('.list')) files.push(join('/etc/apt/sources.list.d', f));
  } catch {}
  for (const f of files) {
    const text = await readFile(f, 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      const m = /^\s*URIs:\s*(\S+)/.exec(line) ?? /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)/.exec(line);
      const uri = m?.[1];
      if (uri && /\/debian\/?$/.test(uri) && !uri.includes('security')) return uri.replace(/\/$/, '');
    }
  }
  return 'http://deb.debian.org/debian';
}

/** Build (or find cached) the stack's roots and images. */
export async function buildStack(opts: BuildStackOptions = {}): Promise<BuiltStack> {
  const name = opts.name ?? DEFAULT_STACK;
  const suite = stackRecipe(name)?.suite;
  if (!suite)
    throw stackErrors.SLIPWAY_ERR_STACK_UNKNOWN({ name, known: Object.keys(STACK_SUITES).join(', ') });
  if (process.getuid?.() !== 0) throw stackErrors.SLIPWAY_ERR_STACK_ROOT({ name });
  const cacheDir = stackCacheDir(opts.cacheDir);
  const mirror = opts.mirror ?? (await aptMirror());
  const say = opts.onProgress ?? (() => {});
  const docker = opts.docker === false ? undefined : (opts.docker ?? (await localEngine()));
  const wanted = opts.variants ?? ['run', 'build'];
  await mkdir(join(cacheDir, 'debs'), { recursive: true, mode: 0o755 });
  const out: BuiltVariant[] = [];
  for (const v of stackVariants(name, suite, mirror).filter((x) => wanted.includes(x.kind))) {
    const root = join(cacheDir, name, v.kind);
    const digestFile = `${root}.digest`;
    const cached = (await readFile(digestFile, 'utf8').catch(() => '')).trim() === v.digest;
    if (cached) say(`-----> ${v.image}: root is current (${root})`);
    else await debootstrap(v, suite, mirror, cacheDir, root, say);
    let state: BuiltVariant['docker'] = 'no-engine';
    if (docker) state = await importRoot(docker, v, name, root, say);
    else say(`       no Docker engine answers: ${v.image} not imported (the root is at ${root})`);
    out.push({ ...v, root, built: !cached, docker: state });
  }
  return { name, suite, mirror, cacheDir, variants: out };
}

/** The local Docker engine, when one answers. */
export async function localEngine(): Promise<Docker | undefined> {
  const { default: Dockerode } = await import('dockerode');
  const docker = new Dockerode();
  try {
    await docker.ping();
    return docker;
  } catch {
    return undefined;
  }
}

async function debootstrap(
  v: StackVariant,
  suite: string,
  mirror: string,
  cacheDir: string,
  root: string,
  say: (line: string) => void,
): Promise<void> {
  const tmp = `${root}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  say(
    `-----> Building ${v.image} from ${mirror} (${suite}, ${v.packages.length} packages and their dependencies)`,
  );
  const started = Date.now();
  const args = [
    '--variant=minbase',
    `--include=${v.packages.join(',')}`,
    `--cache-dir=${join(cacheDir, 'debs')}`,
    suite,
    tmp,
    mirror,
  ];
  await run('debootstrap', args, say, started, (code, tail) =>
    stackErrors.SLIPWAY_ERR_STACK_DEBOOTSTRAP({ image: v.image, code: String(code), tail }),
  );
  // Heroku's dynos speak en_US.UTF-8; /app is where slugs go (owned by the dyno's user later).
  await writeFile(join(tmp, 'etc/locale.gen'), 'en_US.UTF-8 UTF-8\n');
  await run('chroot', [tmp, '/usr/sbin/locale-gen'], say, started, (code, tail) =>
    stackErrors.SLIPWAY_ERR_STACK_DEBOOTSTRAP({ image: v.image, code: `locale-gen ${code}`, tail }),
  );
  await mkdir(join(tmp, 'app'), { recursive: true, mode: 0o755 });
  for (const d of ['var/cache/apt/archives', 'var/lib/apt/lists'])
    for (const f of await readdir(join(tmp, d)).catch(() => [] as string[]))
      if (f !== 'partial' && f !== 'lock') await rm(join(tmp, d, f), { recursive: true, force: true });
  await writeFile(
    join(tmp, 'etc/slipway-stack'),
    `${JSON.stringify({ image: v.image, digest: v.digest })}\n`,
  );
  await rm(root, { recursive: true, force: true });
  await rename(tmp, root);
  await writeFile(`${root}.digest`, `${v.digest}\n`);
  say(`       ${v.image}: root ready in ${Math.round((Date.now() - started) / 1000)} s (${root})`);
}

/** debootstrap's stage lines (not its per-package ones). */
const STAGE =
  /^I: (Retrieving (InRelease|Release|Packages)|Checking|Resolving|Found|Installing|Unpacking (required|the base)|Configuring (required|the base)|Base)/;

/** Run a command, passing its `I:`/`E:`/`W:` lines (and a heartbeat) to `say`. */
function run(
  cmd: string,
  args: string[],
  say: (line: string) => void,
  started: number,
  fail: (code: number | string, tail: string) => Error,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    let perPackage = 0;
    const onLine = (line: string) => {
      tail.push(line);
      if (tail.length > 20) tail.shift();
      // debootstrap prints a line per package and step; a person follows the stages and errors.
      if (/^[EW]:/.test(line) || STAGE.test(line)) say(`       ${line.trim()}`);
      else if (/^I: \S+ \S+/.test(line)) perPackage++;
    };
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', onLine);
    const beat = setInterval(
      () => say(`       … ${Math.round((Date.now() - started) / 1000)} s, ${perPackage} package steps`),
      15_000,
    );
    child.once('error', (e) => {
      clearInterval(beat);
      reject(fail(e.message, tail.join('\n')));
    });
    child.once('close', (code) => {
      clearInterval(beat);
      if (code === 0) resolve();
      else reject(fail(code ?? 'signal', tail.join('\n')));
    });
  });
}

/** `docker import` the root unless the engine has an image of the same digest. */
async function importRoot(
  docker: Docker,
  v: StackVariant,
  name: string,
  root: string,
  say: (line: string) => void,
): Promise<BuiltVariant['docker']> {
  try {
    const info = await docker.getImage(v.image).inspect();
    if (info.Config?.Labels?.['slipway.stack.digest'] === v.digest) {
      say(`       ${v.image}: image is current`);
      return 'current';
    }
  } catch {
    // not there yet
  }
  await access(root);
  say(`-----> docker import ${v.image}`);
  const [repo, tag] = v.image.split(':') as [string, string];
  const tar = spawn('tar', ['--numeric-owner', '-C', root, '-c', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  tar.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const stream = await docker.importImage(tar.stdout, {
    repo,
    tag,
    changes: [
      `LABEL slipway.stack=${name}`,
      `LABEL slipway.stack.digest=${v.digest}`,
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'ENV LANG=en_US.UTF-8',
      `ENV STACK=${name}`,
      'WORKDIR /app',
    ],
  });
  const body = await new Promise<string>((resolve, reject) => {
    let text = '';
    stream.on('data', (c: Buffer) => (text += c.toString()));
    stream.on('end', () => resolve(text));
    stream.on('error', reject);
  });
  const exit = await new Promise<number | null>((r) =>
    tar.exitCode !== null ? r(tar.exitCode) : tar.once('close', r),
  );
  if (exit !== 0 || /"error"/.test(body))
    throw stackErrors.SLIPWAY_ERR_STACK_IMPORT({
      image: v.image,
      detail: `${err.trim()} ${body.slice(-500)}`.trim(),
    });
  say(`       ${v.image}: imported`);
  return 'imported';
}
