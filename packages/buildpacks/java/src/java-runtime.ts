/**
 * Which Java the app asks for (`system.properties` `java.runtime.version`) and which JDK the
 * build machine has. Slipway never downloads a JDK: it finds one (JAVA_HOME, then PATH) or fails.
 */
import { realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BuildpackCompileContext } from '@slipway/buildpack-sdk';

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

/** Check the app's `system.properties` against the JDK; returns the constraint used, if any. */
export function checkJavaVersion(
  ctx: BuildpackCompileContext,
  runtime: JavaRuntime,
  properties: Record<string, string>,
): string | undefined {
  const requested = properties['java.runtime.version'];
  if (!requested) return undefined;
  const constraint = javaConstraint(requested);
  try {
    ctx.requireVersion('java', constraint, runtime.version);
  } catch {
    const major = runtime.version.split('.')[0];
    ctx.fail(
      `system.properties asks for Java ${requested} (java.runtime.version) but the build machine has Java ${runtime.version}`,
      `Set java.runtime.version=${major} in system.properties, or install JDK ${constraint} on the build machine and set JAVA_HOME to it.`,
    );
  }
  return constraint;
}
