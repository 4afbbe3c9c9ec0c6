/**
 * Config var rules, Heroku's: a provider declares its vars prefixed by its id in upper case
 * (`POSTGRES_URL` for `postgres`); the app gets them with that prefix replaced by the attachment
 * name (`--as PRIMARY` → `PRIMARY_URL`). A declared name without the prefix (`DATABASE_URL`) is an
 * alias: it is set exactly as declared, whatever the attachment is called.
 */
import { attachmentName, configPrefix, type ProvisionResult } from '@slipway/core';
import { addonErrors } from './errors.js';
import { type AddonManifest, askedConfigVars, optionalConfigVars } from './manifest.js';

const RESOURCE_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$/;

/** The name a declared var gets in an app attached as `attachment` (aliases are unchanged). */
export function attachedVarName(
  manifest: AddonManifest,
  declared: string,
  attachment: string | undefined,
): string {
  const prefix = `${configPrefix(manifest.id)}_`;
  if (!declared.startsWith(prefix)) return declared;
  return `${attachmentName(manifest.id, attachment)}_${declared.slice(prefix.length)}`;
}

/** Rename a provider's config (declared names) to what the app sees under `attachment`. */
export function attachConfig(
  manifest: AddonManifest,
  config: Record<string, string>,
  attachment: string | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) out[attachedVarName(manifest, k, attachment)] = v;
  return out;
}

/** Why a config value is not acceptable, or undefined when it is. */
export function configValueProblem(name: string, value: unknown): string | undefined {
  if (typeof value !== 'string') return `must be a string, got ${value === null ? 'null' : typeof value}`;
  if (name === 'URL' || name.endsWith('_URL')) {
    let u: URL;
    try {
      u = new URL(value);
    } catch {
      return 'a *_URL value must be an absolute URL (scheme://host…)';
    }
    if (!u.protocol || !u.hostname) return 'a *_URL value must have a scheme and a host';
  }
  return undefined;
}

/**
 * Check a provider's result against its manifest: a stable string id, only declared config var
 * names, string values, well-formed URLs. Given the provision `options`, an optional var must
 * not be returned unless its option asked for it. With `exact`, every declared var must be
 * present too (optional ones: those asked for).
 */
export function checkResult(
  manifest: AddonManifest,
  result: unknown,
  action: string,
  opts: { exact?: boolean; expectId?: string; options?: Record<string, unknown> } = {},
): ProvisionResult {
  const addon = manifest.id;
  if (!result || typeof result !== 'object')
    throw addonErrors.SLIPWAY_ERR_ADDON_RESULT({ addon, action, detail: 'it is not an object' });
  const r = result as Partial<ProvisionResult>;
  if (typeof r.id !== 'string' || !RESOURCE_ID.test(r.id))
    throw addonErrors.SLIPWAY_ERR_ADDON_RESULT({
      addon,
      action,
      detail: `id must be a string of letters, digits and . _ : @ - (got ${JSON.stringify(r.id)})`,
    });
  if (opts.expectId !== undefined && r.id !== opts.expectId)
    throw addonErrors.SLIPWAY_ERR_ADDON_RESULT({
      addon,
      action,
      detail: `id changed from ${opts.expectId} to ${r.id}; a resource keeps its id`,
    });
  if (r.message !== undefined && typeof r.message !== 'string')
    throw addonErrors.SLIPWAY_ERR_ADDON_RESULT({ addon, action, detail: 'message must be a string' });
  const config = r.config ?? {};
  if (typeof config !== 'object' || Array.isArray(config))
    throw addonErrors.SLIPWAY_ERR_ADDON_RESULT({
      addon,
      action,
      detail: 'config must be an object of strings',
    });
  const declared = manifest.api.config_vars;
  for (const [name, value] of Object.entries(config)) {
    if (!declared.includes(name))
      throw addonErrors.SLIPWAY_ERR_ADDON_CONFIG_UNDECLARED({ addon, name, declared: declared.join(', ') });
    const problem = configValueProblem(name, value);
    if (problem) throw addonErrors.SLIPWAY_ERR_ADDON_CONFIG_VALUE({ addon, name, detail: problem });
  }
  const optional = optionalConfigVars(manifest);
  const asked = opts.options ? askedConfigVars(manifest, opts.options) : undefined;
  if (asked)
    for (const name of Object.keys(config))
      if (optional[name] && !asked.includes(name))
        throw addonErrors.SLIPWAY_ERR_ADDON_CONFIG_NOT_ASKED({ addon, name, option: optional[name].option });
  if (opts.exact) {
    const expected = declared.filter((n) => !optional[n] || asked?.includes(n));
    const missing = expected.filter((n) => !(n in config));
    if (missing.length)
      throw addonErrors.SLIPWAY_ERR_ADDON_RESULT({
        addon,
        action,
        detail: `config lacks declared var(s) ${missing.join(', ')}`,
      });
  }
  return {
    id: r.id,
    config: { ...(config as Record<string, string>) },
    ...(r.message ? { message: r.message } : {}),
  };
}
