/**
 * The Java buildpack through the real pipeline with the real JDK, Maven and Maven Central: the
 * example's slug runs from another directory, the repository and build-output caches hit and
 * invalidate correctly, and bad input fails with the buildpack's name, the cause and the fix.
 */
import { execFile } from 'node:child_process';
import { access, chmod, lstat, mkdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import {
  isSlipwayError,
  type SlipwayError,
  type TestBuildpackResult,
  testBuildpack,
} from '@slipway/buildpack-sdk';
import { expect } from 'chai';
import java from './index.js';
import { copyApp, exampleApp, fixture, removeAll, tempDir } from './test-helpers.test.js';

const execFileP = promisify(execFile);

/** Start the slug's web process like a dyno and check that /health answers 200. */
async function answersHealth(r: TestBuildpackResult): Promise<void> {
  const web = await r.start('web');
  try {
    expect((await web.fetch('/health')).status).to.equal(200);
  } finally {
    await web.stop();
  }
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

async function buildFails(dir: string, opts: Parameters<typeof testBuildpack>[2]): Promise<SlipwayError> {
  try {
    const r = await testBuildpack(java, dir, opts);
    await r.cleanup();
  } catch (e) {
    if (isSlipwayError(e)) return e;
    throw e;
  }
  throw new Error('the build succeeded but should have failed');
}

async function onPath(cmd: string): Promise<string | undefined> {
  return execFileP('/bin/sh', ['-c', `command -v ${cmd}`]).then(
    (r) => r.stdout.trim() || undefined,
    () => undefined,
  );
}

describe('buildpack java (real JDK, Maven and Maven Central)', function () {
  this.timeout(240_000);
  let cacheDir: string;
  let cold: TestBuildpackResult;
  const cleanups: string[] = [];

  before(async function () {
    if (!(await onPath('java')) || !(await onPath('mvn'))) {
      const why = 'needs a JDK and Maven (Debian: openjdk-17-jdk-headless maven)';
      if (process.env.CI === 'true') throw new Error(why);
      console.warn(`    ⚠ SKIPPED: ${why}`);
      this.skip();
    }
    cacheDir = await tempDir('java-bp-cache');
    cold = await testBuildpack(java, exampleApp('java'), { cacheDir, output: true });
  });

  after(async () => {
    await cold?.cleanup();
    await removeAll(cacheDir, ...cleanups);
  });

  const expectFailure = async (e: SlipwayError, cause: RegExp, hint: RegExp, slug: string) => {
    expect(e.describe()).to.match(/^\[buildpack java\] /);
    expect(e.message).to.match(cause);
    expect(e.hint).to.match(hint);
    expect(await exists(slug)).to.equal(false);
  };

  it('builds the example app with Heroku-style output', () => {
    expect(cold.buildpacks).to.deep.equal(['java']);
    expect(cold.log).to.include('-----> Java (Maven) app detected');
    expect(
      cold.log.some((l) => /^-----> Using Java 17\.\d+\.\d+ \(system\.properties asks for 17\)$/.test(l)),
    ).to.equal(true);
    expect(
      cold.log.some((l) => l.startsWith('-----> Installing dependencies into a fresh Maven repository')),
    ).to.equal(true);
    expect(cold.log.some((l) => l.startsWith('-----> Building with Apache Maven '))).to.equal(true);
    expect(cold.processTypes).to.deep.equal({
      web: 'java $JAVA_OPTS -jar target/app.jar',
      release: 'java $JAVA_OPTS -cp target/app.jar dev.slipway.example.Release',
    });
  });

  it("runs the slug's web process from another directory and answers /health", async () => {
    // As a dyno runs it: unpacked elsewhere, as an unprivileged user when the tests run as root.
    const web = await cold.start('web');
    try {
      expect(web.dir).to.not.equal(cold.buildDir);
      expect((await web.fetch('/health')).status).to.equal(200);
      expect(((await (await web.fetch('/')).json()) as { app: string }).app).to.equal('slipway-example-java');
      const redis = await web.fetch('/redis');
      expect(redis.status).to.equal(503);
      expect(await redis.text()).to.contain('REDIS_URL is not configured');
    } finally {
      await web.stop();
    }
  });

  it('reuses the build output and repository when nothing changed (Maven does not run)', async () => {
    const warm = await testBuildpack(java, exampleApp('java'), { cacheDir });
    try {
      expect(warm.log.some((l) => l.startsWith('-----> Using cached build output'))).to.equal(true);
      expect(warm.log.some((l) => l.startsWith('-----> Building with'))).to.equal(false);
      expect(await exists(join(warm.buildDir as string, 'target/app.jar'))).to.equal(true);
    } finally {
      await warm.cleanup();
    }
  });

  it('rebuilds when pom.xml changes, and defaults web to the runnable jar with PORT', async () => {
    const app = await copyApp(exampleApp('java'), 'java-pom-change');
    cleanups.push(app);
    await rm(join(app, 'Procfile'));
    const pom = await readFile(join(app, 'pom.xml'), 'utf8');
    const dep =
      '<dependency><groupId>org.apache.commons</groupId><artifactId>commons-lang3</artifactId><version>3.17.0</version></dependency>\n    ';
    await writeFile(join(app, 'pom.xml'), pom.replace('<dependency>', `${dep}<dependency>`));
    const r = await testBuildpack(java, app, { cacheDir, output: true });
    try {
      expect(
        r.log.some((l) => /^-----> Using cached Maven repository \(Java 17\.\S+ unchanged\)$/.test(l)),
      ).to.equal(true);
      expect(r.log.some((l) => l.startsWith('-----> Building with'))).to.equal(true);
      expect(
        await exists(
          join(cacheDir, 'java/maven-repository/repository/org/apache/commons/commons-lang3/3.17.0'),
        ),
      ).to.equal(true);
      expect(r.processTypes.web).to.equal('java -Dserver.port=$PORT $JAVA_OPTS -jar target/app.jar');
      await answersHealth(r);
    } finally {
      await r.cleanup();
    }
  });

  it("builds with the project's Maven wrapper, its Maven downloaded into the cache", async () => {
    // The fixture's mvnw has lost its exec bit, as wrappers often do: the buildpack restores it.
    const r = await testBuildpack(java, fixture('maven-wrapper'), { cacheDir });
    try {
      expect(r.log.some((l) => /^-----> Building with Apache Maven 3\.9\.9 \(\.\/mvnw\)$/.test(l))).to.equal(
        true,
      );
      expect(await exists(join(cacheDir, 'java/maven-repository/wrapper/dists'))).to.equal(true);
      expect(await exists(join(r.buildDir as string, 'target/maven-wrapper-1.0.0.jar'))).to.equal(true);
    } finally {
      await r.cleanup();
    }
  });

  it('fails on a Java version the machine does not have', async () => {
    const slug = join(await tempDir('java-bad'), 'slug.tgz');
    cleanups.push(dirname(slug));
    const e = await buildFails(fixture('bad-version'), { cacheDir, output: slug });
    await expectFailure(
      e,
      /system\.properties \(java\.runtime\.version\) asks for Java 1\.8, which this platform .* does not have; available: 17.*; on the Debian trixie stack root: 21, 25/,
      /Ask for one of the available versions/,
      slug,
    );
  });

  it('fails on a JDK only the trixie stack has, naming the stack and what is available', async () => {
    const slug = join(await tempDir('java-bad'), 'slug.tgz');
    const e = await buildFails(fixture('java-21'), { cacheDir, output: slug });
    expect(e.code).to.equal('SLIPWAY_ERR_BUILDPACK_RUNTIME_NEEDS_STACK');
    await expectFailure(
      e,
      /asks for Java 21: Debian trixie \(openjdk-21\) has Java 21\.0\.\d+, but its build needs glibc 2\.38.*available here: 17/,
      /slipway stack:set slipway-13/,
      slug,
    );
  });

  it('fails on a compile error with the file and line', async () => {
    const slug = join(await tempDir('java-bad'), 'slug.tgz');
    cleanups.push(dirname(slug));
    const e = await buildFails(fixture('compile-error'), { cacheDir, output: slug });
    await expectFailure(
      e,
      /^compile error in src\/main\/java\/fixture\/Broken\.java line 5: ';' expected$/,
      /Fix the error/,
      slug,
    );
  });

  it('fails on a dependency that does not exist', async () => {
    const slug = join(await tempDir('java-bad'), 'slug.tgz');
    cleanups.push(dirname(slug));
    const e = await buildFails(fixture('missing-dependency'), { cacheDir, output: slug });
    await expectFailure(
      e,
      /dependency dev\.slipway\.nope:does-not-exist:jar:1\.0\.0 could not be resolved/,
      /groupId, artifactId and version/,
      slug,
    );
  });

  it('fails clearly without Maven, and on a Gradle project without a wrapper or Gradle', async () => {
    const slug = join(await tempDir('java-bad'), 'slug.tgz');
    cleanups.push(dirname(slug));
    const javaHome = dirname(dirname(await realpath((await onPath('java')) as string)));
    const noMaven = await buildFails(fixture('compile-error'), {
      cacheDir,
      output: slug,
      env: { JAVA_HOME: javaHome, PATH: '/var/empty' },
    });
    await expectFailure(noMaven, /neither \.\/mvnw nor mvn is available/, /apt-get install maven/, slug);
    if (await onPath('gradle')) {
      console.warn('    ⚠ gradle is installed here: the no-Gradle case is not checked');
      return;
    }
    const e = await buildFails(fixture('gradle-no-wrapper'), { cacheDir, output: slug });
    await expectFailure(
      e,
      /Gradle project but neither \.\/gradlew nor gradle is available/,
      /Gradle wrapper/,
      slug,
    );
  });

  it('starts over with a fresh repository when the Java runtime changes', async () => {
    // A JDK whose `java -version` reports another version (and runs the real JVM otherwise):
    // the build machine has one JDK, and the digest is what is under test.
    const realJava = await realpath((await onPath('java')) as string);
    const fakeHome = await tempDir('java-fake-jdk');
    cleanups.push(fakeHome);
    await mkdir(join(fakeHome, 'bin'));
    const shim = join(fakeHome, 'bin', 'java');
    await writeFile(
      shim,
      `#!/bin/sh\nif [ "$1" = "-version" ]; then echo 'openjdk version "17.0.99" 2099-01-01' >&2; exit 0; fi\nexec '${realJava}' "$@"\n`,
    );
    await chmod(shim, 0o755);
    const r = await testBuildpack(java, exampleApp('java'), { cacheDir, env: { JAVA_HOME: fakeHome } });
    try {
      expect(r.log).to.include('-----> Using Java 17.0.99 (system.properties asks for 17)');
      expect(r.log).to.include('-----> Installing dependencies into a fresh Maven repository (Java 17.0.99)');
      expect(r.log.some((l) => l.startsWith('-----> Building with'))).to.equal(true);
    } finally {
      await r.cleanup();
    }
  });

  it("puts Debian's JDK in the slug when dynos see only the stack and the slug (a container runtime)", async () => {
    // This machine's release (Debian bookworm) carries openjdk-17: unpacked into .jdk, with a
    // copy of the build's Java CA store (a stack without a JDK has none); the slug's web process
    // runs on it from another directory. No JDK of the machine is looked for: a JAVA_HOME that
    // leads nowhere is never run. Last: its JDK's banner starts the Maven cache over.
    const r = await testBuildpack(java, exampleApp('java'), {
      cacheDir,
      runtimeInSlug: true,
      env: { JAVA_HOME: '/nonexistent/jdk' },
    });
    try {
      expect(r.log.some((l) => /^-----> (Installing|Using cached) OpenJDK 17 \(Debian /.test(l))).to.equal(
        true,
      );
      const home = join(r.buildDir as string, '.jdk/usr/lib/jvm/java-17-openjdk-amd64');
      expect(await exists(join(home, 'bin/java'))).to.equal(true);
      expect((await lstat(join(home, 'lib/security/cacerts'))).isFile()).to.equal(true);
      expect(
        r.log.some((l) => /^-----> Using Java 17\.\S+ \(system\.properties asks for 17\)$/.test(l)),
      ).to.equal(true);
      await answersHealth(r);
    } finally {
      await r.cleanup();
    }
  });
});
