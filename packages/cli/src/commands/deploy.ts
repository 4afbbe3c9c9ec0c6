/**
 * `deploy [DIR] -a APP`: pack the directory as tar.gz (skipping .git, node_modules and what the
 * top-level .gitignore lists), upload it, and stream the build as it happens. `builds` and
 * `builds:output [ID]` show past builds and their output.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SlipwayError } from '@slipway/core';
import type { ApiBuild } from '@slipway/runtime';
import type { Command } from 'commander';
import { appVerb, type ClientOptions, clientFor, out, printJson, requireApp, table } from '../api-client.js';
import type { CommandModule } from './index.js';

const ALWAYS_SKIP = new Set(['.git', 'node_modules', '.slipway']);

/** Pack `dir` into a tar.gz in a temp dir; returns its path. */
export async function packSource(dir: string): Promise<string> {
  // Loaded by `deploy` only: every other verb would pay for them at start-up.
  const [{ default: ignore }, tar] = await Promise.all([import('ignore'), import('tar')]);
  const root = resolve(dir);
  const ig = ignore();
  try {
    ig.add(await readFile(join(root, '.gitignore'), 'utf8'));
  } catch {
    // no .gitignore: nothing more to skip
  }
  const file = join(await mkdtemp(join(tmpdir(), 'slipway-deploy-')), 'source.tgz');
  await tar.c(
    {
      gzip: true,
      cwd: root,
      file,
      portable: true,
      filter: (p, st) => {
        const rel = p.replace(/^\.\//, '');
        if (rel === '.' || rel === '') return true;
        if (rel.split('/').some((seg) => ALWAYS_SKIP.has(seg))) return false;
        const isDir = 'isDirectory' in st && typeof st.isDirectory === 'function' && st.isDirectory();
        return !ig.ignores(isDir ? `${rel}/` : rel);
      },
    },
    ['.'],
  );
  return file;
}

/** The deploy verb. */
export const deployCommands: CommandModule = {
  register(program: Command) {
    appVerb(
      program
        .command('deploy')
        .argument('[dir]', 'app directory', '.')
        .description('build DIR and release it (build output streams as it happens)'),
      'print the finished build as JSON',
    ).action(async (dir: string, o: ClientOptions) => {
      const app = requireApp(o);
      const client = clientFor(o);
      const file = await packSource(dir);
      let build: ApiBuild;
      try {
        const { size } = await stat(file);
        if (!o.json) out(`-----> Uploading ${dir} (${(size / 1024).toFixed(1)} KB)`);
        const res = await client.raw(
          'POST',
          `/apps/${encodeURIComponent(app)}/builds`,
          createReadStream(file),
          {
            'content-type': 'application/gzip',
            'content-length': String(size),
          },
        );
        build = await client.answer<ApiBuild>(res);
      } finally {
        await rm(join(file, '..'), { recursive: true, force: true });
      }
      await client.lines(build.output_stream_url, (l) =>
        (o.json ? process.stderr : process.stdout).write(`${l}\n`),
      );
      const done = await client.json<ApiBuild>('GET', `/apps/${encodeURIComponent(app)}/builds/${build.id}`);
      printJson(o, done);
      // The streamed output already ends with the error and its hint: say it failed, not why again.
      if (done.status !== 'succeeded' || !done.release)
        throw new SlipwayError(
          'SLIPWAY_ERR_CLI_DEPLOY_FAILED',
          `deploy of ${app} failed (build ${done.id})`,
          {
            hint: `The build output above says why; the running release is unchanged. Again: \`slipway builds:output ${done.id} -a ${app}\`.`,
          },
        );
      if (!o.json) out(`-----> Deployed ${app} v${done.release.version}`);
    });
    appVerb(program.command('builds').description("list the app's builds, newest first")).action(
      async (o: ClientOptions) => {
        const bs = await clientFor(o).json<ApiBuild[]>(
          'GET',
          `/apps/${encodeURIComponent(requireApp(o))}/builds`,
        );
        if (printJson(o, bs)) return;
        if (!bs.length) return out(`${requireApp(o)} has no builds yet.`);
        table([
          ['Id', 'Status', 'Release', 'Created'],
          ...bs
            .slice()
            .reverse()
            .map((b) => [b.id, b.status, b.release ? `v${b.release.version}` : '-', b.created_at]),
        ]);
      },
    );
    appVerb(
      program
        .command('builds:output')
        .argument('[build]', 'build id; default the newest')
        .description('show the output of a build (follows it while it runs)'),
    ).action(async (id: string | undefined, o: ClientOptions) => {
      const app = encodeURIComponent(requireApp(o));
      const c = clientFor(o);
      const build = id
        ? await c.json<ApiBuild>('GET', `/apps/${app}/builds/${encodeURIComponent(id)}`)
        : (await c.json<ApiBuild[]>('GET', `/apps/${app}/builds`)).at(-1);
      if (!build) return out(`${requireApp(o)} has no builds yet.`);
      const lines: string[] = [];
      await c.lines(build.output_stream_url, (l) => (o.json ? lines.push(l) : out(l)));
      printJson(o, { build: { id: build.id, status: build.status }, output: lines });
    });
  },
};
