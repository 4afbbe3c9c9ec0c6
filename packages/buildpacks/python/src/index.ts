/**
 * `@slipway/buildpack-python`: Python apps (requirements.txt, pyproject.toml, setup.py) with the
 * installed interpreter, pip into a relocatable `.heroku/python`, a digest-keyed dependency
 * cache, Django collectstatic and a default `web` for gunicorn/Django/Flask apps.
 */
import {
  type BuildpackCompileContext,
  type BuildpackDefinition,
  defineBuildpack,
  glibcAtLeast,
  runningGlibc,
} from '@slipway/buildpack-sdk';
import { installDebianPython } from './debian-python.js';
import {
  DEPENDENCY_FILES,
  dependencySource,
  installDependencies,
  installedDistributions,
  referencedRequirementFiles,
  SITE_DIR,
} from './dependencies.js';
import { collectStatic } from './django.js';
import { factFiles, inferWeb, procfileHasWeb } from './process-types.js';
import { linkInterpreter, profileScript } from './profile.js';
import {
  checkPython,
  findPython,
  type PythonInterpreter,
  type PythonRequest,
  parsePythonRequest,
  STACK_ONLY_PYTHONS,
} from './python-runtime.js';

/** Files that make an app a Python app. */
export const DETECT_FILES = ['requirements.txt', 'pyproject.toml', 'setup.py'] as const;

type Helpers = Pick<BuildpackCompileContext, 'readText' | 'buildDir'>;

/** The default web command for the app in `ctx.buildDir` (after install), if one can be told. */
export async function defaultWeb(ctx: Helpers): Promise<ReturnType<typeof inferWeb>> {
  const managePy = await ctx.readText('manage.py');
  const files: Record<string, string> = {};
  if (managePy !== undefined) files['manage.py'] = managePy;
  for (const f of factFiles(managePy)) {
    const text = await ctx.readText(f);
    if (text !== undefined) files[f] = text;
  }
  return inferWeb({ files, installed: await installedDistributions(ctx.buildDir) });
}

/**
 * The pinned minor from Debian's packages, into the slug: always when the dynos see only the
 * stack and the slug (then the build machine's Python is not needed at all), else for a minor
 * only newer Debian releases carry, when the root's C library runs it (the stack's build root);
 * undefined when it does not apply or Debian has no such minor (the caller then reports).
 */
async function stackPython(
  ctx: BuildpackCompileContext,
  request: PythonRequest | undefined,
): Promise<PythonInterpreter | undefined> {
  const minor = /^(\d+\.\d+)(?:\.\d+)?$/.exec(request?.version ?? '')?.[1];
  if (!minor) return undefined;
  const needs = STACK_ONLY_PYTHONS[minor]?.needs.replace(/^glibc /, '');
  if (!ctx.stack.runtimeInSlug && !(needs && glibcAtLeast(runningGlibc(), needs))) return undefined;
  return installDebianPython(ctx, minor);
}

/**
 * The interpreter, in the slug when the dynos see only the stack and the slug (a container
 * runtime): Debian's build of the same minor, from the root's release or an earlier one.
 */
async function slugPython(
  ctx: BuildpackCompileContext,
  found: PythonInterpreter,
): Promise<PythonInterpreter> {
  if (!ctx.stack.runtimeInSlug || found.executable.startsWith(`${ctx.buildDir}/`)) return found;
  const minor = /^(\d+\.\d+)/.exec(found.version)?.[1] ?? found.version;
  const installed = await installDebianPython(ctx, minor);
  if (installed) return installed;
  return ctx.fail(
    `Python ${minor} must be in the slug (this platform's dynos see only the ${ctx.stack.id} stack and the slug), and no Debian release this stack's mirror carries has python${minor} that runs here`,
    'Pin a Python minor Debian ships in .python-version (bookworm: 3.11, trixie: 3.13) and push again.',
  );
}

async function resolvePython(ctx: BuildpackCompileContext): Promise<PythonInterpreter> {
  const request = parsePythonRequest(
    await ctx.readText('.python-version'),
    await ctx.readText('runtime.txt'),
    await ctx.readText('pyproject.toml'),
  );
  const found = (await stackPython(ctx, request)) ?? (await findPython(ctx, request));
  if (request) await checkPython(ctx, request, found);
  const python = await slugPython(ctx, found);
  ctx.log.step(
    `Using Python ${python.version}${request ? ` (${request.file} asks for ${request.version})` : ' (the installed default; pin it in .python-version)'}`,
  );
  return python;
}

async function readDependencyFiles(ctx: BuildpackCompileContext): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const pending: string[] = [...DEPENDENCY_FILES];
  while (pending.length) {
    const name = pending.shift() as string;
    if (name in files) continue;
    const text = await ctx.readText(name);
    if (text === undefined) continue;
    files[name] = text;
    if (name.endsWith('.txt')) pending.push(...referencedRequirementFiles(text));
  }
  return files;
}

/** The Python buildpack definition. */
export const pythonBuildpack: BuildpackDefinition = {
  id: 'python',
  name: 'Python',

  async detect(ctx) {
    for (const f of DETECT_FILES) if (await ctx.exists(f)) return { detected: true, name: 'Python' };
    return { detected: false, reason: `no ${DETECT_FILES.join(', ')} at the app root` };
  },

  async compile(ctx) {
    const python = await resolvePython(ctx);
    const files = await readDependencyFiles(ctx);
    const source = dependencySource(new Set(Object.keys(files)));
    if (!source)
      return ctx.fail(
        'no requirements.txt, pyproject.toml or setup.py to install from',
        'Add a requirements.txt listing your dependencies (pip freeze > requirements.txt).',
      );
    await installDependencies(ctx, python, source, files);
    await linkInterpreter(ctx.buildDir, python.executable, python.version);
    await ctx.profileD('python', profileScript());
    const installed = await installedDistributions(ctx.buildDir);
    await collectStatic(ctx, python.executable, installed);

    if (!procfileHasWeb(await ctx.readText('Procfile'))) {
      const web = await defaultWeb(ctx);
      if (!web)
        return ctx.fail(
          'no Procfile with a web process, and this is not a gunicorn, Django or Flask app the buildpack can start',
          'Add a Procfile with a line such as "web: gunicorn --bind 0.0.0.0:$PORT myapp:app".',
        );
      ctx.log.step(`Default web process for ${web.reason}: ${web.command}`);
    }
    const site = `${ctx.buildDir}/${SITE_DIR}`;
    await ctx.exportEnv({
      PYTHONPATH: ctx.env.PYTHONPATH ? `${site}:${ctx.env.PYTHONPATH}` : site,
      PATH: `${site}/bin:${ctx.env.PATH ?? process.env.PATH ?? ''}`,
    });
  },

  async release(ctx) {
    const web = await defaultWeb(ctx);
    return web ? { processTypes: { web: web.command } } : {};
  },
};

/** The Python buildpack as a Slipway plugin. */
export const python = defineBuildpack(pythonBuildpack, { name: '@slipway/buildpack-python' });
export default python;
