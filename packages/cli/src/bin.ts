#!/usr/bin/env node
/** The `slipway` executable. */
import { main } from './main.js';

// `slipway logs | head -1`: the reader went away. Stop quietly, as `cat` would, not with a
// stack trace of the failed write.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(` !     slipway: ${err?.message ?? err}\n`);
    if (process.env.SLIPWAY_DEBUG) process.stderr.write(`${err?.stack ?? ''}\n`);
    process.exitCode = 1;
  },
);
