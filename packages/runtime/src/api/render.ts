/** Heroku Platform API shapes of the runtime's records (snake_case, nested `app` refs). */
import type { DynoStatus } from '@slipway/core';
import type {
  AddonRecord,
  AppRecord,
  BuildRecord,
  FormationRecord,
  ReleaseRecord,
} from '../state/records.js';
import type { ApiAddon, ApiApp, ApiBuild, ApiDyno, ApiFormation, ApiRelease } from './response-schemas.js';

/** The `{ id, name }` of an app in an answer. */
export const ref = (a: AppRecord) => ({ id: a.id, name: a.name });

/**
 * An app (`stack`: the live slug's, as Heroku's `stack.name`; null before the first deploy;
 * `build_stack`, when given: the stack of its next build).
 */
export const renderApp = (
  a: AppRecord,
  webUrl: string,
  released?: ReleaseRecord,
  stack?: string,
  buildStack?: string,
): ApiApp => ({
  id: a.id,
  name: a.name,
  stack: stack ? { name: stack } : null,
  ...(buildStack ? { build_stack: { name: buildStack } } : {}),
  web_url: webUrl,
  buildpacks: a.buildpacks,
  maintenance: a.maintenance,
  current_release: released ? { id: released.id, version: released.version } : null,
  released_at: released?.updatedAt ?? null,
  created_at: a.createdAt,
  updated_at: a.updatedAt,
});

/** A build, with the URL its output streams from. */
export const renderBuild = (a: AppRecord, b: BuildRecord): ApiBuild => ({
  id: b.id,
  app: ref(a),
  status: b.status,
  slug: b.slug ? { id: b.slug } : null,
  release: b.releaseVersion ? { version: b.releaseVersion } : null,
  error: b.error,
  output_stream_url: `/apps/${a.name}/builds/${b.id}/output`,
  created_at: b.createdAt,
  updated_at: b.updatedAt,
});

/** A release (config values are not shown, only names). */
export const renderRelease = (
  a: AppRecord,
  r: ReleaseRecord,
  currentVersion?: number,
): Omit<ApiRelease, 'user'> => ({
  id: r.id,
  app: ref(a),
  version: r.version,
  description: r.description,
  status: r.status,
  current: r.version === currentVersion,
  slug: r.slug ? { id: r.slug } : null,
  config_vars: Object.keys(r.config),
  error: r.error,
  created_at: r.createdAt,
  updated_at: r.updatedAt,
});

/** A formation entry. */
export const renderFormation = (a: AppRecord, f: FormationRecord, command?: string): ApiFormation => ({
  app: ref(a),
  type: f.type,
  quantity: f.quantity,
  size: f.size,
  command: command ?? null,
  updated_at: f.updatedAt,
});

/** A running dyno. */
export const renderDyno = (a: AppRecord, d: DynoStatus): ApiDyno => ({
  id: d.id,
  app: ref(a),
  name: `${d.type}.${d.index}`,
  type: d.type,
  state: d.state,
  release: { version: d.release },
  port: d.port ?? null,
  // The machine it runs on, from runtimes that span several (swarm); null on one machine.
  node: d.node ?? null,
  created_at: new Date(d.startedAt).toISOString(),
});

/** An add-on. */
export const renderAddon = (a: AppRecord, x: AddonRecord): ApiAddon => ({
  id: x.id,
  app: ref(a),
  name: x.name,
  addon_service: { name: x.service },
  plan: { name: `${x.service}:${x.plan}` },
  config_vars: x.configVars,
  // An attachment of another app's add-on (`addons:attach`) names the add-on it shares.
  attachment_of: x.ownerId ? { id: x.ownerId } : null,
  created_at: x.createdAt,
});
