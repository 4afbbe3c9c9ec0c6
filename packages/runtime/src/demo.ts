/**
 * `slipway start --demo`: create and deploy each example app in `examples/apps/*` that exists,
 * one after another, and report its URL. An example whose toolchain is missing fails its build
 * with the buildpack's message; the demo reports it and goes on with the others.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import type { AddonService } from './addon-service.js';
import { attachDemoAddons, demoAddonLines } from './addons/demo-addons.js';
import type { DeployService } from './deploy-service.js';
import type { Platform } from './platform.js';
import { PACKAGE_DIR } from './plugins.js';
import type { ReleaseService } from './release-service.js';
import type { SqliteStateStore } from './state/sqlite-state-store.js';

/** Where the examples live in a checkout of the repository. */
export const EXAMPLES_DIR = join(PACKAGE_DIR, '..', '..', 'examples', 'apps');
const ORDER = ['node', 'python', 'go', 'java'];
const SKIP = new Set(['node_modules', '.git', 'target', '.venv', '__pycache__']);

/** Pack a source dir into a temporary tar.gz (what `slipway deploy` uploads). */
export async function packDir(dir: string): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'slipway-demo-')), 'src.tgz');
  await tar.c(
    { gzip: true, cwd: dir, file, portable: true, filter: (p) => !p.split('/').some((s) => SKIP.has(s)) },
    ['.'],
  );
  return file;
}

/** Deploy the examples; resolves with one result per example. */
export async function runDemo(
  platform: Platform,
  s: {
    releases: ReleaseService;
    deploys: DeployService;
    state: SqliteStateStore;
    onChange?: () => void;
    addons?: AddonService;
  },
  onLine: (line: string) => void,
  examplesDir = EXAMPLES_DIR,
): Promise<{ app: string; url?: string; error?: string }[]> {
  if (!existsSync(examplesDir)) {
    onLine(` !     no examples at ${examplesDir}`);
    return [];
  }
  const names = (await readdir(examplesDir, { withFileTypes: true }))
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort((a, b) => (ORDER.indexOf(a) + 1 || 99) - (ORDER.indexOf(b) + 1 || 99));
  const results: { app: string; url?: string; error?: string }[] = [];
  for (const name of names) {
    const app = name.toLowerCase().replace(/[^a-z0-9-]/g, '-');
    try {
      const rec = s.state.findApp(app) ?? s.state.createApp(app);
      s.onChange?.();
      // Add-ons first: their config vars are in the release the deploy makes (one restart, not four).
      const services = s.addons
        ? await attachDemoAddons(rec, { addons: s.addons, state: s.state }, onLine)
        : [];
      onLine(`=====> Deploying examples/apps/${name} as ${app}`);
      const file = await packDir(join(examplesDir, name));
      let buildId: string;
      try {
        buildId = (await s.deploys.start(rec, file)).id;
      } finally {
        await rm(join(file, '..'), { recursive: true, force: true });
      }
      await new Promise<void>((resolve) =>
        s.deploys.follow(buildId, (l) => (l === null ? resolve() : onLine(`[${app}] ${l}`))),
      );
      const b = s.state.build(buildId);
      if (b?.releaseVersion) {
        results.push({ app, url: platform.appUrl(app) });
        for (const l of demoAddonLines(app, platform.appUrl(app), services)) onLine(l);
      } else results.push({ app, error: b?.error ?? 'build failed' });
    } catch (e) {
      results.push({ app, error: (e as Error).message });
    }
  }
  return results;
}
