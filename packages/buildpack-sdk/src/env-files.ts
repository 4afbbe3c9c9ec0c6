/**
 * Files a buildpack leaves for later stages: `.profile.d/*.sh` (sourced at dyno start) and the
 * Heroku `export` file (sourced by later buildpacks of the same build).
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildpackErrors } from './errors.js';

const execFileP = promisify(execFile);
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Quote a value for a POSIX shell double-quoted string (`"`, `\`, `$` and backticks escaped). */
export function shellDoubleQuote(value: string): string {
  return `"${value.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;
}

/** Render `export K="v"` lines, checking every name. */
export function renderExports(vars: Record<string, string>): string {
  let out = '';
  for (const [k, v] of Object.entries(vars)) {
    if (!VAR_NAME.test(k))
      throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_NAME({
        what: 'exported variable',
        name: k,
        detail: 'names are letters, digits and _, not starting with a digit',
      });
    out += `export ${k}=${shellDoubleQuote(String(v))}\n`;
  }
  return out;
}

/** Write `<buildDir>/.profile.d/<name>.sh`. */
export async function writeProfileD(buildDir: string, name: string, script: string): Promise<string> {
  const base = name.endsWith('.sh') ? name.slice(0, -3) : name;
  if (!FILE_NAME.test(base))
    throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_NAME({
      what: '.profile.d script',
      name,
      detail: 'it must be a plain file name',
    });
  const dir = join(buildDir, '.profile.d');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${base}.sh`);
  await writeFile(file, script.endsWith('\n') ? script : `${script}\n`, { mode: 0o755 });
  return file;
}

/**
 * Source a Heroku `export` file with bash, starting from `baseEnv`, and return the variables it
 * set or changed. Sourcing (rather than parsing) is what classic buildpacks rely on:
 * `export PATH="$HOME/bin:$PATH"` must expand. `--norc`: bash reads ~/.bashrc when stdin is a socket,
 * which is how Node gives it pipes.
 */
export async function sourceExportFile(
  file: string,
  baseEnv: Record<string, string>,
): Promise<Record<string, string>> {
  const { stdout } = await execFileP(
    'bash',
    ['--norc', '--noprofile', '-c', 'set -a; . "$1" >/dev/null; env -0', 'bash', file],
    {
      env: baseEnv,
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  const changed: Record<string, string> = {};
  for (const entry of stdout.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq <= 0) continue;
    const k = entry.slice(0, eq);
    const v = entry.slice(eq + 1);
    // bash adds its own bookkeeping variables; they are not the buildpack's exports.
    if (k === '_' || k === 'SHLVL' || k === 'PWD' || k === 'OLDPWD') continue;
    if (baseEnv[k] !== v) changed[k] = v;
  }
  return changed;
}
