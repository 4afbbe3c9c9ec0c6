/**
 * `@slipway/buildpack-java`: Maven (`pom.xml`, `./mvnw` when present) and Gradle
 * (`build.gradle[.kts]`, `./gradlew`) apps on the installed JDK, checked against
 * `system.properties`; repositories and build output cached in the cache dir; default `web`
 * runs the built jar with `PORT`.
 */
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type BuildpackCompileContext,
  type BuildpackDefinition,
  defineBuildpack,
} from '@slipway/buildpack-sdk';
import {
  type BuildTool,
  buildArgs,
  buildToolEnv,
  buildToolKind,
  GRADLE_FILES,
  MAVEN_FILES,
  resolveBuildTool,
  summarizeFailure,
  toolVersion,
} from './build-tool.js';
import { findRunnableJar } from './jar-manifest.js';
import {
  chooseJava,
  findJava,
  type JavaRuntime,
  javaConstraint,
  parseProperties,
  pinnedSlugJava,
  slugJava,
} from './java-runtime.js';
import { JDBC_PROFILE } from './jdbc.js';
import { profileScript, webCommand } from './profile.js';
import { sourceDigest } from './source-digest.js';

type Helpers = { buildDir: string; exists(rel: string): Promise<boolean> };

async function presentFiles(ctx: Helpers): Promise<Set<string>> {
  const present = new Set<string>();
  for (const f of [...MAVEN_FILES, ...GRADLE_FILES]) if (await ctx.exists(f)) present.add(f);
  return present;
}

/** The built runnable jar, relative to the app, if there is one. */
export async function runnableJar(buildDir: string): Promise<string | undefined> {
  return (await findRunnableJar(buildDir, 'target')) ?? (await findRunnableJar(buildDir, 'build/libs'));
}

function digest(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex');
}

/** Where the tool's whole output lives (cached and restored as one tree). */
function outputRoot(tool: BuildTool): string {
  return tool.kind === 'maven' ? 'target' : 'build';
}

async function runBuildTool(
  ctx: BuildpackCompileContext,
  tool: BuildTool,
  runtime: JavaRuntime,
  repo: string,
) {
  const env = { ...buildToolEnv(tool, repo), ...(runtime.home ? { JAVA_HOME: runtime.home } : {}) };
  const version = await toolVersion(ctx, tool, env);
  const args = buildArgs(tool, repo, ctx.env);
  ctx.log.step(`Building with ${version ?? tool.command}${tool.wrapper ? ` (${tool.command})` : ''}`);
  ctx.log.info(
    `$ ${tool.command} ${args.map((a) => (a.startsWith('-Dmaven.repo.local=') ? '-Dmaven.repo.local=<cache>' : a)).join(' ')}`,
  );
  await rm(join(ctx.buildDir, outputRoot(tool)), { recursive: true, force: true });
  const r = await ctx.run(tool.command, args, { env, allowFailure: true });
  if (r.code !== 0) {
    const summary = summarizeFailure(`${r.stdout}\n${r.stderr}`);
    ctx.fail(
      summary?.cause ?? `${tool.command} failed with exit code ${r.code}`,
      summary?.hint ??
        `Read the ${tool.kind === 'maven' ? 'Maven' : 'Gradle'} output above, fix the build, and try again.`,
    );
  }
}

/** The Java buildpack definition. */
export const javaBuildpack: BuildpackDefinition = {
  id: 'java',
  name: 'Java',

  async detect(ctx) {
    const kind = buildToolKind(await presentFiles(ctx));
    if (kind === 'maven') return { detected: true, name: 'Java (Maven)' };
    if (kind === 'gradle') return { detected: true, name: 'Java (Gradle)' };
    return { detected: false, reason: 'no pom.xml or build.gradle(.kts) at the app root' };
  },

  async compile(ctx) {
    const properties = parseProperties((await ctx.readText('system.properties')) ?? '');
    const pinned = await pinnedSlugJava(ctx, properties);
    const chosen = pinned
      ? { constraint: javaConstraint(properties['java.runtime.version'] as string), runtime: pinned }
      : await chooseJava(ctx, await findJava(ctx), properties);
    const { constraint } = chosen;
    const runtime = await slugJava(ctx, chosen.runtime);
    ctx.log.step(
      `Using Java ${runtime.version}${constraint ? ` (system.properties asks for ${properties['java.runtime.version']})` : ' (the installed default; pin it with java.runtime.version in system.properties)'}`,
    );
    const kind = buildToolKind(await presentFiles(ctx));
    if (!kind)
      return ctx.fail(
        'no pom.xml or build.gradle to build',
        'Add a pom.xml (Maven) or build.gradle (Gradle).',
      );
    const tool = await resolveBuildTool(ctx, kind);

    // The repository outlives pom changes (Maven re-resolves what changed) but not a new JDK.
    const repo = await ctx.cacheLayer(
      kind === 'maven' ? 'maven-repository' : 'gradle-home',
      digest(kind, runtime.banner, runtime.version, tool.command),
    );
    const settings = ['MAVEN_CUSTOM_GOALS', 'MAVEN_CUSTOM_OPTS', 'GRADLE_TASK'].map(
      (k) => `${k}=${ctx.env[k] ?? ''}`,
    );
    const output = await ctx.cacheLayer(
      'build-output',
      await sourceDigest(
        ctx.buildDir,
        [runtime.banner, runtime.version, tool.command, ...settings].join('\n'),
      ),
    );
    const root = outputRoot(tool);
    if (repo.hit && output.hit) {
      ctx.log.step(
        `Using cached build output (sources, build settings and Java ${runtime.version} unchanged)`,
      );
      await rm(join(ctx.buildDir, root), { recursive: true, force: true });
      await ctx.run('cp', ['-a', join(output.dir, root), join(ctx.buildDir, root)], { stream: false });
    } else {
      ctx.log.step(
        repo.hit
          ? `Using cached ${kind === 'maven' ? 'Maven repository' : 'Gradle home'} (Java ${runtime.version} unchanged)`
          : `Installing dependencies into a fresh ${kind === 'maven' ? 'Maven repository' : 'Gradle home'} (Java ${runtime.version})`,
      );
      await runBuildTool(ctx, tool, runtime, repo.dir);
      await repo.save({ java: runtime.version });
      if (await ctx.exists(root)) {
        await ctx.run('cp', ['-a', join(ctx.buildDir, root), join(output.dir, root)], { stream: false });
        await output.save({ java: runtime.version });
      }
    }

    await ctx.profileD('java', profileScript(runtime, ctx.buildDir));
    await ctx.profileD('jdbc', JDBC_PROFILE);
    const jar = await runnableJar(ctx.buildDir);
    if (!/^\s*web\s*:/m.test((await ctx.readText('Procfile')) ?? '')) {
      if (!jar)
        return ctx.fail(
          `no runnable jar (one with a Main-Class) in ${tool.outputDir}/ and no Procfile with a web process`,
          'Build an executable jar (maven-shade-plugin, spring-boot-maven-plugin, Gradle application/bootJar) or add a Procfile such as "web: java -cp target/classes:target/dependency/* com.example.Main".',
        );
      ctx.log.step(`Default web process: ${webCommand(jar)}`);
    }
    if (runtime.home)
      await ctx.exportEnv({
        JAVA_HOME: runtime.home,
        PATH: `${runtime.home}/bin:${ctx.env.PATH ?? process.env.PATH ?? ''}`,
      });
  },

  async release(ctx) {
    const jar = await runnableJar(ctx.buildDir);
    return jar ? { processTypes: { web: webCommand(jar) } } : {};
  },
};

/** The Java buildpack as a Slipway plugin. */
export const java = defineBuildpack(javaBuildpack, { name: '@slipway/buildpack-java' });
export default java;
