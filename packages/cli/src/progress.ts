/**
 * A spinner on stderr for waits that last: nothing for the first second (most API calls end
 * sooner), then yocto-spinner with what is being waited for. Only when stderr is a terminal, so
 * pipes, logs and `--json` output never see it (on a CI terminal it prints a plain progress line).
 */
import type { Spinner } from 'yocto-spinner';

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
  // Loaded only for a terminal, while the first second passes: scripts and pipes never pay for it.
  const spinners = import('yocto-spinner');
  let spinner: Spinner | undefined;
  let ended = false;
  const timer = setTimeout(() => {
    spinners.then(
      ({ default: yoctoSpinner }) => {
        if (!ended) spinner = yoctoSpinner({ text, stream: stream as NodeJS.WriteStream }).start();
      },
      () => {}, // no spinner is no loss
    );
  }, SPINNER_DELAY_MS);
  try {
    const v = await p;
    spinner?.success(`${text}... done`);
    return v;
  } catch (e) {
    spinner?.error(`${text}... failed`);
    throw e;
  } finally {
    ended = true;
    clearTimeout(timer);
  }
}
