// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are shell scripts
/**
 * What a dyno needs to find the app's Python packages: `PYTHONPATH` and `PATH` pointing into
 * the slug, computed from where the slug was unpacked (never the build dir's path), and
 * `python`/`python3` launchers for the interpreter the dependencies were built for.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { SITE_DIR } from './dependencies.js';

/** The `.profile.d/python.sh` script. Config vars set by the user win (`${VAR:-…}`). */
export function profileScript(): string {
  return [
    '# Written by the Slipway python buildpack.',
    '# The slug root is the parent of this file: the slug can be unpacked anywhere.',
    '_slipway_app="$(cd "$(dirname "${BASH_SOURCE[0]:-$PWD/.profile.d/python.sh}")/.." && pwd)"',
    `export PYTHONPATH="$_slipway_app/${SITE_DIR}\${PYTHONPATH:+:$PYTHONPATH}"`,
    `export PATH="$_slipway_app/${SITE_DIR}/bin:$PATH"`,
    'export PYTHONUNBUFFERED="${PYTHONUNBUFFERED:-1}"',
    'export PYTHONHASHSEED="${PYTHONHASHSEED:-random}"',
    'export WEB_CONCURRENCY="${WEB_CONCURRENCY:-2}"',
    'export FORWARDED_ALLOW_IPS="${FORWARDED_ALLOW_IPS:-*}"',
    'unset _slipway_app',
    '',
  ].join('\n');
}

/**
 * Put `python`, `python3` and `python3.X` launchers in the slug's bin dir that exec the build's
 * interpreter. Small scripts rather than symlinks: a slug carries no link pointing outside itself
 * (the platform unpacks slugs refusing those, as it does any archive). `into` (default that bin
 * dir) may be the dependency layer's, so warm builds link them; one already there with the same
 * text is kept, so the packed site-packages member of the slug is reused (slug-members.ts).
 */
export async function linkInterpreter(
  buildDir: string,
  executable: string,
  version: string,
  into = join(buildDir, SITE_DIR, 'bin'),
): Promise<void> {
  await mkdir(into, { recursive: true });
  const minor = version.split('.').slice(0, 2).join('.');
  const quoted = launcherTarget(buildDir, join(buildDir, SITE_DIR, 'bin'), executable);
  const text = `#!/bin/sh\nexec ${quoted} "$@"\n`;
  for (const name of ['python', 'python3', `python${minor}`]) {
    if ((await readFile(join(into, name), 'utf8').catch(() => undefined)) === text) continue;
    await rm(join(into, name), { force: true });
    await writeFile(join(into, name), text, { mode: 0o755 });
  }
}

/** A launcher's command for `executable`: relative to the launcher when it is in the slug. */
export function launcherTarget(buildDir: string, binDir: string, executable: string): string {
  if (!executable.startsWith(`${buildDir}/`)) return `'${executable.replace(/'/g, `'\\''`)}'`;
  return `"$(dirname "$0")/${relative(binDir, executable)}"`;
}
