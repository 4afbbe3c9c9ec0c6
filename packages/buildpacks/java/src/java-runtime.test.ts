import { expect } from 'chai';
import { buildArgs, buildToolKind, splitArgs, summarizeFailure } from './build-tool.js';
import { parseManifest } from './jar-manifest.js';
import { javaConstraint, parseJavaVersion, parseProperties } from './java-runtime.js';

describe('java runtime and build tool (pure logic)', () => {
  it('reads java.runtime.version from system.properties', () => {
    expect(parseProperties('# pinned\njava.runtime.version = 17\nmaven.version=3.9.9\n')).to.deep.equal({
      'java.runtime.version': '17',
      'maven.version': '3.9.9',
    });
  });

  it('turns Heroku-style runtime versions into constraints', () => {
    expect(javaConstraint('17')).to.equal('17');
    expect(javaConstraint('1.8')).to.equal('8');
    expect(javaConstraint('zulu-21')).to.equal('21');
    expect(javaConstraint('17.0.9')).to.equal('17.0.9');
  });

  it('parses java -version output, old and new style', () => {
    expect(parseJavaVersion('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime')).to.equal('17.0.15');
    expect(parseJavaVersion('java version "1.8.0_392"')).to.equal('8.0.392');
    expect(parseJavaVersion('openjdk version "21" 2023-09-19')).to.equal('21');
    expect(parseJavaVersion('bash: java: not found')).to.equal(undefined);
  });

  it('picks Maven over Gradle and honours Heroku’s custom goals', () => {
    expect(buildToolKind(new Set(['pom.xml', 'build.gradle']))).to.equal('maven');
    expect(buildToolKind(new Set(['build.gradle.kts']))).to.equal('gradle');
    expect(buildToolKind(new Set(['Makefile']))).to.equal(undefined);
    const maven = { kind: 'maven', command: 'mvn', wrapper: false, outputDir: 'target' } as const;
    expect(buildArgs(maven, '/c', {}).slice(-2)).to.deep.equal(['-DskipTests', 'package']);
    expect(
      buildArgs(maven, '/c', { MAVEN_CUSTOM_GOALS: 'clean install', MAVEN_CUSTOM_OPTS: '' }).slice(-2),
    ).to.deep.equal(['clean', 'install']);
    expect(splitArgs('  -Pprod   -q ')).to.deep.equal(['-Pprod', '-q']);
  });

  it('summarises compile errors and missing dependencies in one line', () => {
    const compile = summarizeFailure(
      "[ERROR] COMPILATION ERROR :\n[ERROR] /tmp/b/app/src/main/java/x/A.java:[5,40] ';' expected\n",
    );
    expect(compile?.cause).to.equal("compile error in src/main/java/x/A.java line 5: ';' expected");
    const missing = summarizeFailure(
      '[ERROR] Failed to execute goal on project m: Could not resolve dependencies for project a:m:jar:1.0.0: Could not find artifact dev.x:nope:jar:1.0.0 in central (https://repo.maven.apache.org/maven2)',
    );
    expect(missing?.cause).to.equal(
      'dependency dev.x:nope:jar:1.0.0 could not be resolved from the repositories',
    );
  });

  it('parses manifest main attributes with continuation lines', () => {
    expect(
      parseManifest('Manifest-Version: 1.0\r\nMain-Class: dev.slipway.exa\r\n mple.App\r\n\r\nName: x\r\n'),
    ).to.deep.equal({
      'Manifest-Version': '1.0',
      'Main-Class': 'dev.slipway.example.App',
    });
  });
});
