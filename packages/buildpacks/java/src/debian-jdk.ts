/**
 * JDK majors the build machine lacks, from Debian's packages of the root the build runs in (in
 * the slipway-13 stack's build root, Debian trixie's openjdk-21) or of an earlier release when
 * the root's has none (bookworm's openjdk-17 runs on trixie): unpacked into `.jdk` in the
 * slug, as Heroku's JVM buildpacks do, so every dyno runs that JDK from its own `/app`. Kept in
 * a cache layer named by the packages' versions: a rebuild copies it, downloads nothing.
 */
import { readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type BuildpackCompileContext,
  debianPackagesFrom,
  debianSource,
  unpackDebianPackages,
} from '@slipway/buildpack-sdk';
import type { JavaRuntime } from './java-runtime.js';

/** Debian's Java CA store (`ca-certificates-java`), which its JDKs' `cacerts` links to. */
const JAVA_CA_STORE = '/etc/ssl/certs/java/cacerts';

/** Where the JDK is unpacked in the slug (its home is under it, at Debian's path). */
export const JDK_DIR = '.jdk';

/**
 * Install JDK `major` from the root's Debian suite into the slug and identify it; undefined when
 * the suite has no such packages or the JDK does not run here.
 */
export async function installDebianJdk(
  ctx: BuildpackCompileContext,
  major: string,
  identify: (javaHome: string) => Promise<JavaRuntime>,
): Promise<JavaRuntime | undefined> {
  const root = await debianSource();
  if (!root) return undefined;
  const names = [`openjdk-${major}-jre-headless`, `openjdk-${major}-jdk-headless`];
  // The root's release, else an earlier one whose build runs here (trixie: bookworm's JDK 17).
  const from = await debianPackagesFrom(root, names, join(ctx.cacheDir, 'debian'), 'Java');
  if (!from) return undefined;
  const { source, packages: debs } = from;
  const version = debs[0]?.version ?? major;
  const layer = await ctx.cacheLayer(`jdk-${major}`, debs.map((p) => `${p.name}=${p.version}`).join(' '));
  if (layer.hit) ctx.log.step(`Using cached OpenJDK ${major} (Debian ${source.suite} ${version})`);
  else {
    ctx.log.step(`Installing OpenJDK ${major} (Debian ${source.suite}: openjdk-${major} ${version})`);
    await rm(layer.dir, { recursive: true, force: true });
    await unpackDebianPackages(source, debs, layer.dir, join(ctx.cacheDir, 'debian'), 'Java');
    // The CA store is the root's (Debian's ca-certificates-java makes it), not one in the slug.
    const cacerts = join(layer.dir, `usr/lib/jvm/java-${major}-openjdk-amd64/lib/security/cacerts`);
    await rm(cacerts, { force: true });
    await symlink(JAVA_CA_STORE, cacerts);
    await layer.save({ java: version, suite: source.suite });
  }
  const target = join(ctx.buildDir, JDK_DIR);
  await rm(target, { recursive: true, force: true });
  // Hard links, as the Node.js and Python runtimes: the slug's packing then finds the JDK it
  // packed last time (same files) and reuses that member instead of compressing 200 MB again.
  const linked = await ctx.run('cp', ['-al', layer.dir, target], { stream: false, allowFailure: true });
  if (linked.code !== 0) {
    await rm(target, { recursive: true, force: true });
    await ctx.run('cp', ['-a', layer.dir, target], { stream: false });
  }
  if (ctx.stack.runtimeInSlug) await copyCaStore(join(target, `usr/lib/jvm/java-${major}-openjdk-amd64`));
  try {
    return await identify(join(target, `usr/lib/jvm/java-${major}-openjdk-amd64`));
  } catch {
    await rm(target, { recursive: true, force: true });
    return undefined;
  }
}

/**
 * Dynos that see only the stack and the slug find no Java CA store at `/etc/ssl/certs/java` (the
 * stack has no JDK, so no `ca-certificates-java`): the slug's JDK gets a copy of the build's,
 * made from the same Mozilla set as the stack's `ca-certificates`. Left a link when the build has none.
 */
async function copyCaStore(javaHome: string): Promise<void> {
  const store = join(javaHome, 'lib/security/cacerts');
  const certs = await readFile(JAVA_CA_STORE).catch(() => undefined);
  if (!certs) return;
  await rm(store, { force: true });
  await writeFile(store, certs, { mode: 0o644 });
}
