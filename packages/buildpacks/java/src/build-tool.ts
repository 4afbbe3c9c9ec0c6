/**
 * Maven and Gradle: which one, which executable (the project's wrapper first), the arguments
 * Heroku uses, their repositories in the cache dir, and turning their failures into one line.
 */
import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildpackCompileContext } from '@slipway/buildpack-sdk';

/** The build tools the buildpack drives. */
export type BuildToolKind = 'maven' | 'gradle';

/** A build tool resolved for one app. */
export interface BuildTool {
  kind: BuildToolKind;
  /** `./mvnw`, `mvn`, `./gradlew` or `gradle`. */
  command: string;
  /** True when the project's wrapper is used. */
  wrapper: boolean;
  /** Where runnable jars land, relative to the app. */
  outputDir: 'target' | 'build/libs';
}

/** Files that mark a Maven or a Gradle project. */
export const MAVEN_FILES = ['pom.xml'] as const;
export const GRADLE_FILES = [
  'build.gradle',
  'build.gradle.kts',
  'settings.gradle',
  'settings.gradle.kts',
] as const;

/** Which build tool a project uses, from the files present (Maven wins when both exist). */
export function buildToolKind(present: ReadonlySet<string>): BuildToolKind | undefined {
  if (MAVEN_FILES.some((f) => present.has(f))) return 'maven';
  if (GRADLE_FILES.some((f) => present.has(f))) return 'gradle';
  return undefined;
}

/** Split a config var such as MAVEN_CUSTOM_OPTS into arguments (whitespace; no shell). */
export function splitArgs(value: string | undefined): string[] {
  return value?.trim() ? value.trim().split(/\s+/) : [];
}

/** Resolve the executable: the wrapper when the project has one, else the tool on PATH. */
export async function resolveBuildTool(
  ctx: BuildpackCompileContext,
  kind: BuildToolKind,
): Promise<BuildTool> {
  const wrapperName = kind === 'maven' ? 'mvnw' : 'gradlew';
  const outputDir = kind === 'maven' ? 'target' : 'build/libs';
  if (await ctx.exists(wrapperName)) {
    // Wrappers often lose their exec bit on the way (zip downloads, Windows commits).
    await chmod(join(ctx.buildDir, wrapperName), 0o755);
    return { kind, command: `./${wrapperName}`, wrapper: true, outputDir };
  }
  const command = kind === 'maven' ? 'mvn' : 'gradle';
  const found = await ctx.run('/bin/sh', ['-c', `command -v ${command}`], {
    stream: false,
    allowFailure: true,
  });
  if (found.code !== 0 || !found.stdout.trim())
    return ctx.fail(
      kind === 'maven'
        ? 'this is a Maven project (pom.xml) but neither ./mvnw nor mvn is available'
        : 'this is a Gradle project but neither ./gradlew nor gradle is available',
      kind === 'maven'
        ? 'Add the Maven wrapper to the app (mvn wrapper:wrapper) or install Maven on the build machine (Debian: apt-get install maven).'
        : 'Add the Gradle wrapper to the app (gradle wrapper; commit gradlew and gradle/wrapper/) or install Gradle on the build machine.',
    );
  return { kind, command, wrapper: false, outputDir };
}

/** The tool's arguments; `repo` is the cache layer holding its repository. */
export function buildArgs(tool: BuildTool, repo: string, env: Readonly<Record<string, string>>): string[] {
  if (tool.kind === 'maven') {
    const goals = splitArgs(env.MAVEN_CUSTOM_GOALS);
    const opts = env.MAVEN_CUSTOM_OPTS !== undefined ? splitArgs(env.MAVEN_CUSTOM_OPTS) : ['-DskipTests'];
    return [
      '-B',
      '--no-transfer-progress',
      '-Dstyle.color=never',
      `-Dmaven.repo.local=${join(repo, 'repository')}`,
      ...opts,
      ...(goals.length ? goals : ['package']),
    ];
  }
  const tasks = splitArgs(env.GRADLE_TASK);
  return ['--no-daemon', '--console=plain', ...(tasks.length ? tasks : ['build', '-x', 'check'])];
}

/** Environment that points the tool (and its wrapper's download) at the cache. */
export function buildToolEnv(tool: BuildTool, repo: string): Record<string, string> {
  return tool.kind === 'maven' ? { MAVEN_USER_HOME: repo } : { GRADLE_USER_HOME: repo };
}

/** One line for a failed build: the first compile error or unresolved dependency, else undefined. */
export function summarizeFailure(output: string): { cause: string; hint: string } | undefined {
  const compile = /^\[ERROR\]\s+(\/\S+\.(?:java|kt|groovy|scala)):\[(\d+),(\d+)\]\s+(.+)$/m.exec(output);
  if (compile) {
    const file = compile[1]?.replace(/^.*?\/(src\/)/, '$1');
    return {
      cause: `compile error in ${file} line ${compile[2]}: ${compile[4]}`,
      hint: 'Fix the error in the source and build again (mvn -B package reproduces it locally).',
    };
  }
  const gradleCompile = /^(?:e: )?(\/\S+\.(?:java|kt|groovy)):(\d+):\s*(?:error:\s*)?(.+)$/m.exec(output);
  if (gradleCompile) {
    const file = gradleCompile[1]?.replace(/^.*?\/(src\/)/, '$1');
    return {
      cause: `compile error in ${file} line ${gradleCompile[2]}: ${gradleCompile[3]}`,
      hint: 'Fix the error in the source and build again (./gradlew build reproduces it locally).',
    };
  }
  const missing =
    /Could not (?:find artifact|resolve dependencies for project [^:]+:[^:]+:[^:]+:[^:]+: (?:The following artifacts could not be resolved: |Could not find artifact ))([\w.-]+:[\w.-]+(?::[\w.-]+){1,3})/.exec(
      output,
    ) ?? /Could not find ([\w.-]+:[\w.-]+:[\w.-]+)\./.exec(output);
  if (missing)
    return {
      cause: `dependency ${missing[1]} could not be resolved from the repositories`,
      hint: 'Check its groupId, artifactId and version in the build file (search.maven.org shows what exists).',
    };
  const pluginMissing =
    /Plugin ([\w.-]+:[\w.-]+:[\w.-]+) or one of its dependencies could not be resolved/.exec(output);
  if (pluginMissing)
    return {
      cause: `Maven plugin ${pluginMissing[1]} could not be resolved`,
      hint: 'Check the plugin coordinates and version in pom.xml.',
    };
  return undefined;
}

/** The tool's version line (`Apache Maven 3.8.7`, `Gradle 8.10`), best effort, for the log. */
export async function toolVersion(
  ctx: BuildpackCompileContext,
  tool: BuildTool,
  env: Record<string, string>,
) {
  const r = await ctx
    .run(tool.command, ['--version'], { stream: false, allowFailure: true, env })
    .catch(() => undefined);
  const text = (r?.stdout ?? '').replace(/\x1b\[[0-9;]*m/g, '');
  return /^(Apache Maven \S+|Gradle \S+)/m.exec(text)?.[1];
}
