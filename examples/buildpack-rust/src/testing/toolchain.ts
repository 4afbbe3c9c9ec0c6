/** Test helper: skip loudly (or fail under CI=true) when the Rust toolchain is not installed. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** Call from a `before` hook: resolves when `cargo` and `rustc` run, else skips (fails in CI). */
export async function requireRust(ctx: Mocha.Context): Promise<void> {
  try {
    await execFileP('cargo', ['--version']);
    await execFileP('rustc', ['--version']);
  } catch (e) {
    const why = `the Rust toolchain is not installed (cargo/rustc: ${(e as Error).message.split('\n')[0]}); install it with rustup or apt-get install cargo`;
    if (process.env.CI === 'true') throw new Error(why);
    console.warn(`\n  !!! SKIPPING Rust buildpack tests: ${why}\n`);
    ctx.skip();
  }
}
