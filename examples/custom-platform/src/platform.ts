/**
 * The custom platform, composed in TypeScript: the kernel and local dyno runtime of
 * `@slipway/runtime`, two buildpacks (Node.js and the Rust example), the mail add-on and the
 * canary router plugin. `slipway.config.json` beside this package describes the same platform.
 */
import { createRequire } from 'node:module';
import mail from '@slipway/addon-mail';
import { type Platform, type PlatformOptions, startPlatform } from '@slipway/runtime';
import { type CanaryOptions, canaryPlugin } from './canary-plugin.js';

const require = createRequire(import.meta.url);

/**
 * Buildpacks, in detection order. Build workers load them in their own process, so they are
 * passed as paths (resolved from this package, so its own dependencies are the ones used).
 */
export const BUILDPACKS = [
  require.resolve('@slipway/buildpack-nodejs'),
  require.resolve('@slipway-examples/buildpack-rust'),
];

/** Options of `startCustomPlatform`: the runtime's (ports, host, base domain…) plus the canary's. */
export interface CustomPlatformOptions
  extends Omit<PlatformOptions, 'configFile' | 'buildpacks' | 'addons' | 'plugins'> {
  canary?: CanaryOptions;
}

/** Start the custom platform (its `stop()` stops the mail add-on's SMTP server too). */
export function startCustomPlatform(opts: CustomPlatformOptions): Promise<Platform> {
  const { canary = {}, ...runtime } = opts;
  return startPlatform({
    // The Rust buildpack uses the build machine's toolchain (cargo and rustc on PATH), which the
    // stack's build root does not carry: this platform builds on the host.
    builds: 'host',
    ...runtime,
    buildpacks: BUILDPACKS,
    // No add-on by specifier: the one add-on is passed below as an object (it keeps its data
    // under the platform's data dir).
    addons: [],
    plugins: [mail, [canaryPlugin, { ...canary }]],
  });
}
