/**
 * The Python buildpack through the real pipeline with the real pip and PyPI: the example app's
 * slug runs from another directory, the dependency cache hits and invalidates correctly, and
 * bad input fails with the buildpack's name, the cause and what to do.
 */
import { execFile } from 'node:child_process';
import { access, appendFile, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  isSlipwayError,
  type SlipwayError,
  type TestBuildpackResult,
  testBuildpack,
} from '@slipway/buildpack-sdk';
import { expect } from 'chai';
import python from './index.js';
import { isVersionManaged, runnableByAll } from './python-runtime.js';
import { copyApp, exampleApp, fixture, removeAll, tempDir } from './test-helpers.test.js';

const execFileP = promisify(execFile);

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

/** Build and expect a failure; returns the error. */
async function buildFails(dir: string, opts: Parameters<typeof testBuildpack>[2]): Promise<SlipwayError> {
  try {
    const r = await testBuildpack(python, dir, opts);
    await r.cleanup();
  } catch (e) {
    if (isSlipwayError(e)) return e;
    throw e;
  }
  throw new Error('the build succeeded but should have failed');
}

/** Another installed Python minor version than the default python3 (pyenv or PATH), if any. */
async function otherPython(): Promise<{ exe: string; minor: string } | undefined> {
  const probe = async (exe: string) =>
    execFileP(exe, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])']).then(
      (r) => r.stdout.trim(),
      () => undefined,
    );
  const current = await probe('python3');
  const roots = [process.env.PYENV_ROOT, join(homedir(), '.pyenv')].filter(Boolean) as string[];
  for (const minor of ['3.12', '3.13', '3.11', '3.10']) {
    if (minor === current) continue;
    for (const root of roots) {
      const versions = await readdir(join(root, 'versions')).catch(() => [] as string[]);
      for (const v of versions.filter((n) => n.startsWith(`${minor}.`))) {
        const exe = join(root, 'versions', v, 'bin', `python${minor}`);
        // Only an interpreter every user may run is used by the buildpack (dynos run unprivileged).
        if ((await probe(exe)) === minor && !isVersionManaged(exe) && (await runnableByAll(exe)))
          return { exe, minor };
      }
    }
    for (const dir of ['/usr/bin', '/usr/local/bin']) {
      const exe = join(dir, `python${minor}`);
      if ((await probe(exe)) === minor && !isVersionManaged(exe) && (await runnableByAll(exe)))
        return { exe, minor };
    }
  }
  return undefined;
}

describe('buildpack python (real pip, real PyPI)', function () {
  this.timeout(180_000);
  let cacheDir: string;
  let cold: TestBuildpackResult;
  const cleanups: string[] = [];

  before(async function () {
    const pip = await execFileP('python3', ['-m', 'pip', '--version']).catch(() => undefined);
    if (!pip) {
      const why = 'needs python3 with pip (Debian: python3 python3-pip)';
      if (process.env.CI === 'true') throw new Error(why);
      console.warn(`    ⚠ SKIPPED: ${why}`);
      this.skip();
    }
    cacheDir = await tempDir('python-bp-cache');
    cold = await testBuildpack(python, exampleApp('python'), { cacheDir, output: true });
  });

  after(async () => {
    await cold?.cleanup();
    await removeAll(cacheDir, ...cleanups);
  });

  it('builds the example app with Heroku-style output', () => {
    expect(cold.buildpacks).to.deep.equal(['python']);
    expect(cold.log).to.include('-----> Python app detected');
    expect(
      cold.log.some((l) => /^-----> Using Python 3\.\d+\.\d+ \(\.python-version asks for 3\.11\)$/.test(l)),
    ).to.equal(true);
    expect(cold.log).to.include('-----> Installing dependencies with pip (from requirements.txt)');
    expect(cold.processTypes).to.include.keys('web', 'worker', 'release');
    expect(cold.slug?.size).to.be.greaterThan(1_000_000);
  });

  it("runs the slug's web process from another directory and answers /health", async () => {
    // As a dyno runs it: unpacked elsewhere, as an unprivileged user when the tests run as root.
    const web = await cold.start('web');
    try {
      expect(web.dir).to.not.equal(cold.buildDir);
      expect((await web.fetch('/health')).status).to.equal(200);
      const index = (await (await web.fetch('/')).json()) as { app: string };
      expect(index.app).to.equal('slipway-example-python');
      const db = await web.fetch('/db');
      expect(db.status).to.equal(503);
      expect(await db.text()).to.contain('DATABASE_URL is not configured');
    } finally {
      await web.stop();
    }
  });

  it('runs the release process (python resolves to the slug interpreter and its packages)', async () => {
    const release = await cold.run('release', { env: { DATABASE_URL: '' } });
    expect(release.output).to.contain('DATABASE_URL not configured');
    expect(release.code).to.equal(0);
  });

  it('reuses the installed dependencies, and their packed slug member, when nothing changed', async () => {
    const warm = await testBuildpack(python, exampleApp('python'), { cacheDir, output: true });
    try {
      expect(warm.log.some((l) => l.startsWith('-----> Using cached dependencies (Python 3.'))).to.equal(
        true,
      );
      // The site-packages are linked from the layer with their launchers: nothing is new under
      // them, so the slug takes the member the first build packed instead of compressing again.
      expect(warm.log.join('\n')).to.match(/Reused the packed \.heroku\/python\b/);
      expect(warm.log.some((l) => l.includes('Installing dependencies'))).to.equal(false);
      expect(await exists(join(warm.buildDir as string, '.heroku/python/flask/__init__.py'))).to.equal(true);
    } finally {
      await warm.cleanup();
    }
  });

  it("puts Debian's Python in the slug when dynos see only the stack and the slug (a container runtime)", async () => {
    // This machine's release (Debian bookworm) carries python3.11: unpacked into the slug with
    // pip, the app's packages installed with it, and the web process runs on it elsewhere.
    const cache = await tempDir('python-in-slug-cache');
    cleanups.push(cache);
    const r = await testBuildpack(python, exampleApp('python'), { cacheDir: cache, runtimeInSlug: true });
    try {
      expect(
        r.log.some((l) => /^-----> Installing Python 3\.11\.\d+ \(Debian \w+: python3\.11 /.test(l)),
      ).to.equal(true);
      const runtime = join(r.buildDir as string, '.heroku/python-runtime/usr/bin/python3.11');
      expect(await exists(runtime)).to.equal(true);
      const web = await r.start('web');
      try {
        expect((await web.fetch('/health')).status).to.equal(200);
        const { stdout } = await execFileP('sh', ['-c', `readlink -f /proc/${web.pid}/exe`]);
        expect(stdout.trim()).to.match(/\/\.heroku\/python-runtime\/usr\/bin\/python3\.11$/);
      } finally {
        await web.stop();
      }
    } finally {
      await r.cleanup();
    }
  });

  it('reinstalls when requirements.txt changes', async () => {
    const app = await copyApp(exampleApp('python'), 'python-lock-change');
    cleanups.push(app);
    await appendFile(join(app, 'requirements.txt'), 'six==1.17.0\n');
    const r = await testBuildpack(python, app, { cacheDir });
    try {
      expect(r.log).to.include('-----> Installing dependencies with pip (from requirements.txt)');
      expect(await exists(join(r.buildDir as string, '.heroku/python/six.py'))).to.equal(true);
    } finally {
      await r.cleanup();
    }
  });

  it('reinstalls when the Python version changes', async function () {
    const other = await otherPython();
    if (!other) {
      console.warn(
        '    ⚠ SKIPPED: needs a second Python minor version that every user may run (e.g. /usr/bin/python3.12) to switch to',
      );
      this.skip();
    }
    const app = await copyApp(exampleApp('python'), 'python-runtime-change');
    const bin = join(app, '..', `${app.split('/').pop()}-bin`);
    cleanups.push(app, bin);
    await mkdir(bin, { recursive: true });
    await symlink(other.exe, join(bin, `python${other.minor}`));
    await writeFile(join(app, '.python-version'), `${other.minor}\n`);
    const r = await testBuildpack(python, app, { cacheDir, env: { PATH: `${bin}:${process.env.PATH}` } });
    try {
      expect(r.log.some((l) => l.startsWith(`-----> Using Python ${other.minor}.`))).to.equal(true);
      expect(r.log).to.include('-----> Installing dependencies with pip (from requirements.txt)');
    } finally {
      await r.cleanup();
    }
  });

  it('gives a Flask app without a Procfile a gunicorn web process that runs', async () => {
    const r = await testBuildpack(python, fixture('flask-default-web'), { cacheDir, output: true });
    try {
      expect(r.processTypes.web).to.equal("gunicorn --bind 0.0.0.0:$PORT 'app:app'");
      expect(r.log).to.include(
        "-----> Default web process for Flask (app.py): gunicorn --bind 0.0.0.0:$PORT 'app:app'",
      );
      const web = await r.start('web');
      try {
        expect((await web.fetch('/health')).status).to.equal(200);
      } finally {
        await web.stop();
      }
    } finally {
      await r.cleanup();
    }
  });

  it('runs Django collectstatic and serves the project with gunicorn', async () => {
    const r = await testBuildpack(python, fixture('django'), { cacheDir, output: true });
    try {
      expect(r.log).to.include('-----> $ python manage.py collectstatic --noinput');
      expect(await exists(join(r.buildDir as string, 'staticfiles/css/app.css'))).to.equal(true);
      expect(r.processTypes.web).to.equal('gunicorn mysite.wsgi --bind 0.0.0.0:$PORT --log-file -');
      const web = await r.start('web');
      try {
        expect((await web.fetch('/health')).status).to.equal(200);
      } finally {
        await web.stop();
      }
    } finally {
      await r.cleanup();
    }
  });

  it('installs a pyproject.toml app and refreshes its own package on every build', async () => {
    const first = await testBuildpack(python, fixture('pyproject'), { cacheDir });
    try {
      expect(first.log).to.include('-----> Installing dependencies with pip (from pyproject.toml)');
      const installed = join(first.buildDir as string, '.heroku/python/greeter/__init__.py');
      expect(await readFile(installed, 'utf8')).to.contain('hello v1');
    } finally {
      await first.cleanup();
    }
    const app = await copyApp(fixture('pyproject'), 'python-pyproject-edit');
    cleanups.push(app);
    const init = join(app, 'greeter/__init__.py');
    await writeFile(init, (await readFile(init, 'utf8')).replace('hello v1', 'hello v2'));
    const second = await testBuildpack(python, app, { cacheDir, output: true });
    try {
      expect(second.log.some((l) => l.startsWith('-----> Using cached dependencies'))).to.equal(true);
      expect(second.log).to.include('-----> Installing the app package');
      const web = await second.start('web');
      try {
        expect(await (await web.fetch('/')).text()).to.equal('hello v2');
      } finally {
        await web.stop();
      }
    } finally {
      await second.cleanup();
    }
  });

  describe('bad input', () => {
    let out: string;
    before(async () => {
      out = await tempDir('python-bad');
      cleanups.push(out);
    });

    const expectFailure = async (e: SlipwayError, cause: RegExp, hint: RegExp, slug: string) => {
      expect(e.describe()).to.match(/^\[buildpack python\] /);
      expect(e.message).to.match(cause);
      expect(e.hint).to.match(hint);
      expect(await exists(slug)).to.equal(false);
    };

    it('fails on a Python version the machine does not have', async () => {
      const slug = join(out, 'bad-version.tgz');
      const e = await buildFails(fixture('bad-version'), { cacheDir, output: slug });
      await expectFailure(
        e,
        /runtime\.txt asks for Python 2\.6\.9, which this platform .* does not have; available: 3\.11.*; in stacks: 3\.13 \(slipway-13\), 3\.14 \(slipway-14\)/,
        /Ask for one of the available versions in runtime\.txt/,
        slug,
      );
    });

    it('fails on a minor only the trixie stack has, naming the stack and what is available', async () => {
      const slug = join(out, 'python-313.tgz');
      const e = await buildFails(fixture('python-313'), { cacheDir, output: slug });
      expect(e.code).to.equal('SLIPWAY_ERR_BUILDPACK_RUNTIME_NEEDS_STACK');
      await expectFailure(
        e,
        /\.python-version asks for Python 3\.13: Debian trixie has Python 3\.13\.\d+, but its build needs glibc 2\.38.*available here: 3\.11/,
        /`slipway stack:set slipway-13`/,
        slug,
      );
    });

    it("fails on 3.14 where the C library is older than testing's, naming the slipway-14 stack", async () => {
      const slug = join(out, 'python-314.tgz');
      const e = await buildFails(fixture('python-314'), { cacheDir, output: slug });
      expect(e.code).to.equal('SLIPWAY_ERR_BUILDPACK_RUNTIME_NEEDS_STACK');
      await expectFailure(
        e,
        /\.python-version asks for Python 3\.14: Debian testing \(forky\) has Python 3\.14\.\d+, but its build needs glibc 2\.42.*available here: 3\.11/,
        /`slipway stack:set slipway-14`/,
        slug,
      );
    });

    it('takes the newest patch of a pinned minor when the pinned patch is not here, with a warning', async () => {
      const r = await testBuildpack(python, fixture('patch-pin'), { cacheDir });
      try {
        const text = r.log.join('\n');
        expect(text).to.match(
          /runtime\.txt asks for Python 3\.11\.6, which this platform does not have; using Python 3\.11\.\d+/,
        );
        const web = await r.start('web');
        expect(await (await web.fetch('/')).text()).to.match(/^3\.11\.\d+$/);
      } finally {
        await r.cleanup();
      }
    });

    it('fails on a dependency that does not exist', async () => {
      const slug = join(out, 'missing.tgz');
      const e = await buildFails(fixture('missing-package'), { cacheDir, output: slug });
      await expectFailure(
        e,
        /pip could not find slipway-no-such-package-0c1b7e==1\.0\.0/,
        /requirements\.txt/,
        slug,
      );
    });

    it('requires a Procfile when it cannot tell how to start the app', async () => {
      const slug = join(out, 'no-web.tgz');
      const e = await buildFails(fixture('no-web'), { cacheDir, output: slug });
      await expectFailure(e, /no Procfile with a web process/, /Add a Procfile/, slug);
    });

    it('fails clearly when no Python is installed', async () => {
      const slug = join(out, 'no-python.tgz');
      const e = await buildFails(fixture('flask-default-web'), {
        cacheDir,
        output: slug,
        env: { PATH: '/var/empty' },
      });
      await expectFailure(e, /no Python interpreter found on PATH/, /apt-get install python3/, slug);
    });
  });
});
