/**
 * `apps:create NAME --manifest app.json [--env K=V…]`: create an app from an app.json manifest
 * through `POST /app-setups`: env (required values given here, `generator: "secret"` made by
 * the platform), buildpacks, formation and add-ons apply together or not at all; the
 * postdeploy script runs after the first release.
 */
import { readFile } from 'node:fs/promises';
import { defineErrors, parseConfigAssignments } from '@slipway/core';
import { type ClientOptions, clientFor, out, printJson } from '../api-client.js';

/** Errors of the manifest verbs. */
export const appSetupCliErrors = defineErrors({
  SLIPWAY_ERR_CLI_MANIFEST_READ: {
    message: 'cannot read manifest {file}: {detail}',
    hint: 'Give the path of an app.json file: `slipway apps:create NAME --manifest app.json`.',
  },
});

/** Options of `apps:create` that belong to manifests. */
export interface ManifestOptions extends ClientOptions {
  manifest?: string;
  env?: string[];
}

/** Create `name` (generated when absent) from the manifest file in `o.manifest`. */
export async function createFromManifest(name: string | undefined, o: ManifestOptions): Promise<void> {
  const file = o.manifest as string;
  let manifest: unknown;
  try {
    manifest = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw appSetupCliErrors.SLIPWAY_ERR_CLI_MANIFEST_READ(
      { file, detail: (e as Error).message },
      { cause: e },
    );
  }
  const env = parseConfigAssignments(o.env ?? []);
  const r = await clientFor(o).json<{
    app: { name: string; web_url: string };
    generated: string[];
    addons: string[];
    warnings?: string[];
    postdeploy: string | null;
  }>('POST', '/app-setups', { ...(name ? { name } : {}), manifest, env }, 'Setting up the app');
  if (printJson(o, r)) return;
  out(`Creating ${r.app.name} from ${file}... done`);
  for (const w of r.warnings ?? []) out(` !    ${w}`);
  if (r.generated.length) out(`Generated ${r.generated.join(', ')}`);
  if (r.addons.length) out(`Provisioned ${r.addons.length} add-on${r.addons.length > 1 ? 's' : ''}`);
  if (r.postdeploy) out(`Postdeploy \`${r.postdeploy}\` runs after the first release`);
  out(r.app.web_url);
}
