#!/usr/bin/env node
/** The `slipway` executable. */
import { main } from './main.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`slipway: ${err?.stack ?? err}\n`);
    process.exitCode = 1;
  },
);
