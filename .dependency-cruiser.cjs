/**
 * The architecture of README.md ("Architecture at a glance") as dependency-cruiser rules, run by
 * `npm run lint` (`npm run lint:deps`). An arrow may only point down:
 *
 *   cli ──► runtime ──► router, SDKs, core
 *   buildpacks/* ──► buildpack-sdk ──► core
 *   addons/*     ──► addon-sdk ─────► core
 *
 * Providers and buildpacks are reached only through the kernel's registries: the runtime's
 * default-plugin list and the CLI's `slipway build` load them by specifier at run time, which no
 * static import shows. Each rule matches a workspace package both by its resolved path
 * (packages/<name>/…) and by its specifier (@slipway/<name>), so it holds even before a build.
 * Tests and test helpers may import what they exercise (a test starts a real Postgres provider);
 * examples/ are composition roots for platform builders and may import plugins to register them.
 */
const pkg = (dir, name) => `^(packages/${dir}/|@slipway/${name}(/|$))`;
const CORE = pkg('core', 'core');
const BUILDPACK_SDK = pkg('buildpack-sdk', 'buildpack-sdk');
const ADDON_SDK = pkg('addon-sdk', 'addon-sdk');
const BUILDPACKS = '^(packages/buildpacks/|@slipway/buildpack-(?!sdk(/|$)))';
const ADDONS = '^(packages/addons/|@slipway/addon-(?!sdk(/|$)))';
const ROUTER = pkg('router', 'router');
const RUNTIME = pkg('runtime', 'runtime');
const CLI = pkg('cli', 'cli');
const DASHBOARD = pkg('dashboard', 'dashboard');
const TESTS = '\\.test(-helper)?\\.tsx?$';
const any = (...res) => res.map((r) => `(${r})`).join('|');

module.exports = {
  forbidden: [
    {
      name: 'core-imports-no-workspace-package',
      comment: 'core is the bottom layer: it imports no other workspace package.',
      severity: 'error',
      from: { path: '^packages/core/' },
      to: { path: any(BUILDPACK_SDK, ADDON_SDK, BUILDPACKS, ADDONS, ROUTER, RUNTIME, CLI, DASHBOARD) },
    },
    {
      name: 'sdks-import-only-core',
      comment:
        'The SDKs are what plugin authors depend on: they import core only (never the runtime, the router, the CLI, a plugin or the other SDK).',
      severity: 'error',
      from: { path: '^packages/(buildpack-sdk|addon-sdk)/' },
      to: {
        path: any(BUILDPACKS, ADDONS, ROUTER, RUNTIME, CLI, DASHBOARD, '^(packages/(buildpack|addon)-sdk/|@slipway/(buildpack|addon)-sdk)'),
        pathNot: '^(packages/$1/|@slipway/$1(/|$))',
      },
    },
    {
      name: 'no-provider-or-buildpack-imports',
      comment:
        'A provider or buildpack is reached through the registries (plugins loaded by specifier), never imported by another package.',
      severity: 'error',
      from: { path: '^packages/', pathNot: any(TESTS, '^packages/(addons|buildpacks)/') },
      to: { path: any(BUILDPACKS, ADDONS) },
    },
    {
      name: 'no-plugin-imports-another-plugin',
      comment: 'A provider or buildpack imports no other provider or buildpack (its own files only).',
      severity: 'error',
      from: { path: '^packages/(addons|buildpacks)/([^/]+)/', pathNot: TESTS },
      to: { path: any(BUILDPACKS, ADDONS), pathNot: '^packages/$1/$2/' },
    },
    {
      name: 'plugins-import-only-their-sdk',
      comment:
        'First-party buildpacks and add-ons use only their public SDK, exactly as a third party would (the SDK re-exports the core types they need).',
      severity: 'error',
      from: { path: '^packages/(buildpacks|addons)/' },
      to: { path: any(CORE, ROUTER, RUNTIME, CLI, DASHBOARD) },
    },
    {
      name: 'buildpacks-use-the-buildpack-sdk',
      severity: 'error',
      from: { path: '^packages/buildpacks/' },
      to: { path: ADDON_SDK },
    },
    {
      name: 'addons-use-the-addon-sdk',
      severity: 'error',
      from: { path: '^packages/addons/' },
      to: { path: BUILDPACK_SDK },
    },
    {
      name: 'router-imports-only-core',
      comment: 'The router knows nothing of the runtime: it imports core only.',
      severity: 'error',
      from: { path: '^packages/router/' },
      to: { path: any(BUILDPACK_SDK, ADDON_SDK, RUNTIME, CLI, DASHBOARD) },
    },
    {
      name: 'runtime-below-cli',
      comment: 'The runtime is below the CLI and the dashboard (the dashboard uses only the public API).',
      severity: 'error',
      from: { path: '^packages/runtime/', pathNot: TESTS },
      to: { path: any(CLI, DASHBOARD) },
    },
    {
      name: 'dashboard-uses-the-api-only',
      comment: 'The dashboard is a client of the public API: no workspace package in its web code.',
      severity: 'error',
      from: { path: '^packages/dashboard/web/' },
      to: { path: any(CORE, BUILDPACK_SDK, ADDON_SDK, BUILDPACKS, ADDONS, ROUTER, RUNTIME, CLI) },
    },
  ],
  options: {
    includeOnly: '^(packages|examples)/|^@slipway/',
    // Sources only (see the lint:deps script); a workspace import resolves to the package's
    // dist/, kept as a leaf so the rules see it.
    exclude: { path: '(^|/)(node_modules|templates)/|/test/fixtures/' },
    doNotFollow: { path: '(^|/)(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.d.ts'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
