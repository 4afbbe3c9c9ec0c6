/**
 * Which Java the app asks for (`system.properties` `java.runtime.version`) and which JDK serves
 * it: JAVA_HOME, then PATH, then Debian's JDK of the major asked for; a major only Debian trixie
 * carries, or none, fails listing the available ones.
 */
import { readdir, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  type BuildpackCompileContext,
  buildpackErrors,
  glibcAtLeast,
  runningGlibc,
} from '@slipway/buildpack-sdk';
import { installDebianJdk } from './debian-jdk.js';

/** A JDK found on the build machine. */
export interface JavaRuntime {
  /** The `java` that answered (absolute when it came from JAVA_HOME or could be resolved). */
  java: string;
  /** The JDK's home (parent of `bin/java`, symlinks resolved), for `.profile.d`. */
  home: string;
  /** `17.0.15` (Java 8's `1.8.0_392` becomes `8.0.392`). */
  version: string;
  /** The full first line of `java -version`, for the log and the cache digest. */
  banner: string;
}

/** Read `key=value` lines of a Java properties file (comments and blanks skipped). */
export function parseProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('!')) continue;
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (m?.[1]) out[m[1]] = m[2] ?? '';
  }
  return out;
}

/**
 * Turn `java.runtime.version` into a version constraint: `17` → `17`, `1.8` → `8`,
 * `zulu-21` → `21`, `17.0.9` → `17.0.9`.
 */
export function javaConstraint(requested: string): string {
  const v = requested.trim().replace(/^[a-z]+-/i, '');
  const legacy = /^1\.(\d+)(.*)$/.exec(v);
  if (legacy) return `${legacy[1]}${legacy[2]?.replace(/^\.0_(\d+)/, '.0.$1') ?? ''}`;
  return v;
}

/** The version in `java -version` output, normalised: `1.8.0_392` → `8.0.392`. */
export function parseJavaVersion(output: string): string | undefined {
  const m = /version "([^"]+)"/.exec(output);
  if (!m?.[1]) return undefined;
  const v = m[1];
  const legacy = /^1\.(\d+)\.(\d+)(?:_(\d+))?/.exec(v);
  if (legacy) return `${legacy[1]}.${legacy[2]}.${legacy[3] ?? 0}`;
  return v.replace(/[+-].*$/, '');
}

/** Find and identify the JDK: `$JAVA_HOME/bin/java` when JAVA_HOME is set, else `java` on PATH. */
export async function findJava(ctx: BuildpackCompileContext): Promise<JavaRuntime> {
  const javaHome = ctx.env.JAVA_HOME;
  const java = javaHome ? join(javaHome, 'bin', 'java') : 'java';
  let output = '';
  try {
    const r = await ctx.run(java, ['-version'], { stream: false, allowFailure: true });
    output = `${r.stderr}\n${r.stdout}`;
  } catch {
    // Not found: reported below.
  }
  const version = parseJavaVersion(output);
  if (!version)
    return ctx.fail(
      javaHome ? `JAVA_HOME is ${javaHome} but ${java} does not run` : 'no Java (JDK) found on PATH',
      'Install a JDK on the build machine (Debian: apt-get install openjdk-17-jdk-headless) or set JAVA_HOME to one.',
    );
  let home = javaHome ?? '';
  if (!home) {
    const which = await ctx.run('/bin/sh', ['-c', 'command -v java'], { stream: false, allowFailure: true });
    const found = which.stdout.trim();
    home = found ? dirname(dirname(await realpath(found).catch(() => found))) : '';
  }
  const banner = output.trim().split(/\r?\n/)[0] ?? version;
  return { java, home, version, banner };
}

/**
 * JDK majors that Debian carries only in releases newer than this host's (trixie's openjdk-21
 * and openjdk-25, built against glibc 2.38+, which bookworm's 2.36 cannot load; bookworm-backports
 * has neither): they run in the trixie stack root, not here.
 */
export const STACK_ONLY_JDKS: Readonly<Record<string, string>> = { '21': '21.0.13', '25': '25.0.5' };

/** Where Debian installs its JDKs (`java-17-openjdk-amd64`), one dir per major. */
const DEBIAN_JVM_DIR = '/usr/lib/jvm';

/** Majors of the Debian JDKs installed on the build machine, newest first. */
export async function debianJdks(dir = DEBIAN_JVM_DIR): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const name of (await readdir(dir).catch(() => [] as string[])).sort()) {
    const m = /^java-(\d+)-openjdk-[a-z0-9]+$/.exec(name);
    if (m?.[1]) found.set(m[1], join(dir, name));
  }
  return new Map([...found].sort(([a], [b]) => Number(b) - Number(a)));
}

/**
 * Check the app's `system.properties` against the JDK. When the JDK found does not match, a
 * Debian JDK of the major asked for is used instead; a major only the stack has, or none has,
 * is a coded error listing the majors available. Returns the constraint and the runtime to use.
 */
export async function chooseJava(
  ctx: BuildpackCompileContext,
  runtime: JavaRuntime,
  properties: Record<string, string>,
): Promise<{ constraint: string | undefined; runtime: JavaRuntime }> {
  const requested = properties['java.runtime.version'];
  if (!requested) return { constraint: undefined, runtime };
  const constraint = javaConstraint(requested);
  const fits = (v: string) => satisfies(ctx, constraint, v);
  if (fits(runtime.version)) return { constraint, runtime };
  const major = /^(\d+)/.exec(constraint)?.[1] ?? constraint;
  const jdks = await debianJdks();
  const home = jdks.get(major);
  if (home) {
    const other = await findJava({ ...ctx, env: { ...ctx.env, JAVA_HOME: home } } as BuildpackCompileContext);
    if (fits(other.version)) return { constraint, runtime: other };
  }
  const available = [...jdks.keys()].join(', ') || `only ${runtime.version}`;
  const file = 'system.properties (java.runtime.version)';
  const stack = STACK_ONLY_JDKS[major];
  // In a root whose C library runs it (the stack's build root): Debian's JDK, into the slug.
  if (stack && glibcAtLeast(runningGlibc(), '2.38')) {
    const installed = await slugJdk(ctx, major);
    if (installed && fits(installed.version)) return { constraint, runtime: installed };
  }
  if (stack)
    throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_RUNTIME_NEEDS_STACK({
      file,
      tool: 'Java',
      constraint: requested,
      source: 'Debian trixie (openjdk-' + major + ')',
      version: stack,
      needs: 'glibc 2.38',
      available,
      stack: 'slipway-13',
    });
  throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_RUNTIME_UNAVAILABLE({
    file,
    tool: 'Java',
    constraint: requested,
    source: "this platform (the build machine's Debian JDKs)",
    available: `${available}; on the Debian trixie stack root: ${Object.keys(STACK_ONLY_JDKS).join(', ')}`,
  });
}

/**
 * The JDK, in the slug when the dynos see only the stack and the slug (a container runtime):
 * Debian's build of the same major, from the root's release or an earlier one.
 */
export async function slugJava(ctx: BuildpackCompileContext, runtime: JavaRuntime): Promise<JavaRuntime> {
  if (!ctx.stack.runtimeInSlug || runtime.home.startsWith(`${ctx.buildDir}/`)) return runtime;
  const major = /^(\d+)/.exec(runtime.version)?.[1] ?? runtime.version;
  const installed = await slugJdk(ctx, major);
  if (installed) return installed;
  return ctx.fail(
    `Java ${major} must be in the slug (this platform's dynos see only the ${ctx.stack.id} stack and the slug), and no Debian release this stack's mirror carries has openjdk-${major} that runs here`,
    'Pin a JDK major Debian ships with java.runtime.version in system.properties (bookworm: 17, trixie: 21 or 25) and push again.',
  );
}

/**
 * With the dynos seeing only the stack and the slug, the major `system.properties` pins, from
 * Debian into the slug, before any JDK of the build machine is looked for (none is needed
 * then); undefined when nothing is pinned, Debian has no such major or it does not fit.
 */
export async function pinnedSlugJava(
  ctx: BuildpackCompileContext,
  properties: Record<string, string>,
): Promise<JavaRuntime | undefined> {
  const requested = properties['java.runtime.version'];
  if (!ctx.stack.runtimeInSlug || !requested) return undefined;
  const constraint = javaConstraint(requested);
  const major = /^(\d+)/.exec(constraint)?.[1];
  const installed = major ? await slugJdk(ctx, major) : undefined;
  return installed && satisfies(ctx, constraint, installed.version) ? installed : undefined;
}

/** Whether Java `version` meets `constraint` (the SDK's version check, as a yes or no). */
function satisfies(ctx: BuildpackCompileContext, constraint: string, version: string): boolean {
  try {
    ctx.requireVersion('java', constraint, version);
    return true;
  } catch {
    return false;
  }
}

/** Debian's JDK `major` installed into the slug and identified; undefined when none runs here. */
function slugJdk(ctx: BuildpackCompileContext, major: string): Promise<JavaRuntime | undefined> {
  return installDebianJdk(ctx, major, (home) =>
    findJava({ ...ctx, env: { ...ctx.env, JAVA_HOME: home } } as BuildpackCompileContext),
  );
}
