#!/usr/bin/env node
// The `slipway` executable as npm links it. It is committed (not built) because npm links a bin
// only when its file exists at install time, and dist/ is built after that (the root `prepare`).
try {
  await import('../dist/bin.js');
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes('dist/bin.js')) throw e;
  process.stderr.write(' !     slipway is not built yet: run `npm run build` at the root of the checkout.\n');
  process.exitCode = 1;
}
