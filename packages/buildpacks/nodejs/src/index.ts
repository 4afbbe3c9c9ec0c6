/**
 * The Node.js buildpack: detects `package.json`, resolves `engines.node` to the platform's
 * Node.js or one downloaded from the npm registry into the slug (node-runtime.ts), installs with
 * npm, Yarn or pnpm (chosen from the lockfile) behind a digest-keyed cache, runs the build
 * script, prunes dev dependencies and defaults `web` to `npm start`.
 */
import { defineBuildpack } from '@slipway/buildpack-sdk';
import { outputDigest, restoreOutput, saveOutput, treeDigest } from './build-output-cache.js';
import {
  installDependencies,
  installDigest,
  pruneDevDependencies,
  readInstallConfig,
} from './dependencies.js';
import { placeNode, resolveNode, SLUG_NODE_DIR, withAppNode } from './node-runtime.js';
import { buildScripts, defaultWebCommand, type PackageJson, packageJsonProblem } from './package-json.js';
import { choosePackageManager, LOCKFILES } from './package-manager.js';
import { packageManagerRunner } from './toolchain.js';

/** Sourced at dyno start: the app's own binaries on PATH and production mode unless configured. */
const PROFILE_SCRIPT = `# Written by the Slipway Node.js buildpack.
# Paths are found from this file, so the slug runs from whatever directory it is unpacked in.
__slipway_app="$(cd "$(dirname "\${BASH_SOURCE[0]:-$0}")/.." && pwd)"
export PATH="$__slipway_app/node_modules/.bin:$PATH"
if [ -x "$__slipway_app/.heroku/node/bin/node" ]; then export PATH="$__slipway_app/.heroku/node/bin:$PATH"; fi
export NODE_ENV="\${NODE_ENV:-production}"
unset __slipway_app
`;

/** The Node.js buildpack plugin. */
export const nodejsBuildpack = defineBuildpack(
  {
    id: 'nodejs',
    name: 'Node.js',

    async detect(ctx) {
      if (await ctx.exists('package.json')) return { detected: true, name: 'Node.js' };
      return { detected: false, reason: 'no package.json at the app root' };
    },

    async compile(ctx) {
      const raw = await ctx.readJson('package.json');
      const problem = packageJsonProblem(raw);
      if (problem)
        ctx.fail(
          `package.json is invalid: ${problem}`,
          'Fix package.json (npm pkg fix helps) and build again.',
        );
      const pkg = raw as PackageJson;

      ctx.log.step('Checking Node.js version');
      const wanted = pkg.engines?.node;
      ctx.log.info(`engines.node (package.json): ${wanted ?? 'unspecified'}`);
      // The source digest is taken before a downloaded Node.js lands in the build dir.
      const source = await treeDigest(ctx.buildDir, ['node_modules']);
      const nodeRuntime = await resolveNode(ctx, wanted);
      const node = nodeRuntime.version;

      const present: string[] = [];
      for (const files of Object.values(LOCKFILES))
        for (const f of files) if (await ctx.exists(f)) present.push(f);
      const chosen = choosePackageManager(present, pkg.packageManager);
      if (!chosen.ok) return ctx.fail(chosen.reason, chosen.hint);
      const { choice } = chosen;
      const corepack = await ctx.cacheLayer('corepack', 'v1');
      const runner = await withAppNode(
        ctx,
        await packageManagerRunner(ctx, choice.name, corepack.dir),
        nodeRuntime,
      );
      await corepack.save();
      ctx.log.info(
        `Using ${runner.name} ${runner.version}${runner.command === 'corepack' ? ' (via corepack)' : ''}`,
      );
      if (choice.pinned && choice.pinned !== runner.version)
        ctx.log.warn(`package.json pins ${choice.name}@${choice.pinned} but ${runner.version} is installed.`);

      const digest = installDigest({
        node,
        runner,
        lockfileText: choice.lockfile ? await ctx.readText(choice.lockfile) : undefined,
        pkg,
        configFiles: await readInstallConfig(ctx),
      });
      const output = await restoreOutput(
        ctx,
        outputDigest({
          source,
          install: digest,
          env: ctx.env,
          stack: ctx.stack.id,
        }),
      );
      // After the restore (which empties the build dir); the saved output never holds it.
      await placeNode(ctx, nodeRuntime);
      if (output.hit) return;

      const scripts = buildScripts(pkg);
      const runScript = async (script: string) => {
        ctx.log.step(`Running ${script}`);
        // As on Heroku, build scripts see NODE_ENV=production unless the app sets it.
        await ctx.run(runner.command, [...runner.prefix, 'run', script], {
          env: { ...runner.env, NODE_ENV: ctx.env.NODE_ENV ?? 'production' },
        });
      };
      if (scripts.prebuild) await runScript(scripts.prebuild);
      const install = await installDependencies(ctx, runner, choice, digest);
      if (scripts.build) await runScript(scripts.build);
      await pruneDevDependencies(ctx, runner, choice, install);
      if (scripts.cleanup) await runScript(scripts.cleanup);

      await ctx.profileD('nodejs', PROFILE_SCRIPT);
      await saveOutput(ctx, output.layer, [SLUG_NODE_DIR]);
    },

    async release(ctx) {
      const pkg = ((await ctx.readJson('package.json')) ?? {}) as PackageJson;
      const web = defaultWebCommand(pkg, await ctx.exists('server.js'));
      return web ? { processTypes: { web } } : {};
    },
  },
  { name: '@slipway/buildpack-nodejs' },
);

export default nodejsBuildpack;
export { buildScripts, defaultWebCommand, type PackageJson, packageJsonProblem } from './package-json.js';
export {
  choosePackageManager,
  type PackageManagerChoice,
  type PackageManagerName,
} from './package-manager.js';
