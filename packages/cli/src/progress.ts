/**
 * A spinner on stderr for waits that last: nothing for the first second (most API calls end
 * sooner), then yocto-spinner with what is being waited for. Only when stderr is a terminal, so
 * pipes, logs and `--json` output never see it (on a CI terminal it prints a plain progress line).
 */
import yoctoSpinner from 'yocto-spinner';

/** How long a wait lasts before the spinner shows. */
export const SPINNER_DELAY_MS = 1000;

/** Where the spinner draws (stderr unless a test passes its own terminal-like stream). */
export interface ProgressStream extends NodeJS.WritableStream {
  isTTY?: boolean;
}

/** Run `work`; if it takes over a second and `stream` is a terminal, show `text` with a spinner meanwhile. */
export async function withProgress<T>(
  text: string,
  work: Promise<T> | (() => Promise<T>),
  stream: ProgressStream = process.stderr,
): Promise<T> {
  const p = typeof work === 'function' ? work() : work;
  if (!stream.isTTY) return p;
  let spinner: ReturnType<typeof yoctoSpinner> | undefined;
  const timer = setTimeout(() => {
    spinner = yoctoSpinner({ text, stream: stream as NodeJS.WriteStream }).start();
  }, SPINNER_DELAY_MS);
  try {
    const v = await p;
    spinner?.success(`${text}... done`);
    return v;
  } catch (e) {
    spinner?.error(`${text}... failed`);
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
