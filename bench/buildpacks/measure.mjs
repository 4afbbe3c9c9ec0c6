/**
 * What both buildpack benchmarks share: one build step in its own process under /usr/bin/time
 * (wall and CPU seconds, CPU counting every child) and the median of a set of rounds.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);
const steps = fileURLToPath(new URL('./steps.mjs', import.meta.url));
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** Run `node steps.mjs args…`, returning wall and CPU seconds and the step's own JSON line. */
export async function measure(args, work) {
  const out = join(work, `time-${Date.now()}.txt`);
  const t = performance.now();
  const { stdout } = TIME
    ? await execFileP(TIME, ['-f', '%e %U %S', '-o', out, process.execPath, steps, ...args], {
        maxBuffer: 64 * 1024 * 1024,
      })
    : await execFileP(process.execPath, [steps, ...args], { maxBuffer: 64 * 1024 * 1024 });
  const wall = (performance.now() - t) / 1000;
  let cpu = Number.NaN;
  if (TIME) {
    const [, user, sys] = (await readFile(out, 'utf8')).trim().split('\n').pop().split(' ').map(Number);
    cpu = user + sys;
  }
  const lines = stdout.trim().split('\n');
  return { wall, cpu, info: JSON.parse(lines[lines.length - 1]) };
}

/** The median of the numbers in `xs` (NaN skipped). */
export const median = (xs) => {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (!s.length) return Number.NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
