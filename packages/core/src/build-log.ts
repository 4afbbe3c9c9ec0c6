/**
 * Heroku-style build output: `-----> ` for steps, seven spaces for detail, ` !     ` for
 * warnings and errors. Every line goes to one sink so the CLI, the API stream and `git push`
 * show the same thing.
 */

/** A line-oriented writer of build output. */
export interface BuildLog {
  /** A step: `-----> Installing dependencies`. */
  step(message: string): void;
  /** Detail under a step, indented seven spaces. */
  info(message: string): void;
  /** ` !     message`, for things the user should look at. */
  warn(message: string): void;
  /** ` !     message`, for the reason a build fails. */
  error(message: string): void;
  /** A line exactly as given (subprocess output is indented by the caller). */
  raw(line: string): void;
}

/** Where finished lines go. */
export type LineSink = (line: string) => void;

const INDENT = '       ';

/** Build a BuildLog over a line sink; multi-line messages keep their prefix on every line. */
export function createBuildLog(sink: LineSink): BuildLog {
  const each = (prefix: string, message: string) => {
    for (const l of String(message).split(/\r?\n/)) sink(prefix + l);
  };
  return {
    step: (m) => each('-----> ', m),
    info: (m) => each(INDENT, m),
    warn: (m) => each(' !     ', m),
    error: (m) => each(' !     ', m),
    raw: (l) => sink(l),
  };
}

/** Indent subprocess output as Heroku does (seven spaces), skipping empty trailing lines. */
export function indentOutput(line: string): string {
  return line.length ? INDENT + line : line;
}
