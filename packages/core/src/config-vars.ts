/**
 * Config var rules: names of letters, digits and `_`, Heroku's 32 kB total per app, and the
 * prefix an add-on attachment gives the vars it sets.
 */
import { coreErrors } from './errors.js';

/** Allowed config var names (not starting with a digit). */
export const CONFIG_VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Heroku's limit on the total size of an app's config vars, in bytes. */
export const CONFIG_VARS_MAX_BYTES = 32 * 1024;

/** Longest config var name (Heroku documents none; a process environment wants sane ones). */
export const CONFIG_VAR_NAME_MAX = 256;

/**
 * Control characters a value may not hold: NUL cannot be passed in a process environment at
 * all (the dyno would fail to start, with the value in the error), and the others would reach
 * terminals and logs raw. Tab, newline and carriage return stay allowed (PEM keys, JSON).
 */
const VALUE_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** A name as shown in a message: long ones cut, so a refusal never echoes kilobytes. */
function shown(name: string): string {
  return name.length > 60 ? `${name.slice(0, 40)}… (${name.length} characters)` : name;
}

/** The config var prefix of an add-on service id: upper-cased, `-` → `_` (`heroku-redis` → `HEROKU_REDIS`). */
export function configPrefix(service: string): string {
  return service.toUpperCase().replace(/-/g, '_');
}

const ATTACHMENT_NAME = /^[A-Z][A-Z0-9_]*$/;

/**
 * An add-on attachment's name, which prefixes the config vars it sets (Heroku's rule): `--as
 * NAME` (normalised the same way, `primary-db` → `PRIMARY_DB`), else the service's prefix.
 * Throws SLIPWAY_ERR_ADDON_ATTACHMENT_NAME (422) when the result is no config var prefix.
 */
export function attachmentName(service: string, as?: string): string {
  if (!as) return configPrefix(service);
  const name = configPrefix(as);
  if (!ATTACHMENT_NAME.test(name)) throw coreErrors.SLIPWAY_ERR_ADDON_ATTACHMENT_NAME({ name: as });
  return name;
}

/** Throw SLIPWAY_ERR_CONFIG_VAR_NAME unless `name` is a valid config var name. */
export function assertConfigVarName(name: string): void {
  if (!name) throw coreErrors.SLIPWAY_ERR_CONFIG_VAR_NAME({ name, detail: 'it is empty' });
  if (name.length > CONFIG_VAR_NAME_MAX)
    throw coreErrors.SLIPWAY_ERR_CONFIG_VAR_NAME({
      name: shown(name),
      detail: `it is longer than ${CONFIG_VAR_NAME_MAX} characters`,
    });
  if (!CONFIG_VAR_NAME.test(name)) {
    const bad = [...name].find((c) => !/[A-Za-z0-9_]/.test(c));
    const detail = bad ? `${JSON.stringify(bad)} is not allowed` : 'it must not start with a digit';
    throw coreErrors.SLIPWAY_ERR_CONFIG_VAR_NAME({ name: JSON.stringify(shown(name)).slice(1, -1), detail });
  }
}

/** Bytes the vars take (names plus values, UTF-8), as counted against the limit. */
export function configVarsSize(vars: Record<string, string>): number {
  let n = 0;
  for (const [k, v] of Object.entries(vars)) n += Buffer.byteLength(k) + Buffer.byteLength(v);
  return n;
}

/** Validate names, string values and the total size. Returns the vars unchanged. */
export function validateConfigVars(
  vars: Record<string, unknown>,
  limit = CONFIG_VARS_MAX_BYTES,
): Record<string, string> {
  for (const [k, v] of Object.entries(vars)) {
    assertConfigVarName(k);
    if (typeof v !== 'string')
      throw coreErrors.SLIPWAY_ERR_CONFIG_VAR_NAME({
        name: k,
        detail: `its value must be a string, not ${typeof v}`,
      });
    const bad = VALUE_CONTROL.exec(v);
    if (bad)
      throw coreErrors.SLIPWAY_ERR_CONFIG_VAR_VALUE({
        name: k,
        char: `\\u${bad[0].charCodeAt(0).toString(16).padStart(4, '0')}`,
        position: bad.index,
      });
  }
  const size = configVarsSize(vars as Record<string, string>);
  if (size > limit) throw coreErrors.SLIPWAY_ERR_CONFIG_VARS_TOO_LARGE({ size, limit });
  return vars as Record<string, string>;
}

/** Parse `KEY=value` words (as `config:set` takes them); the value may contain `=`. */
export function parseConfigAssignments(words: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const w of words) {
    const i = w.indexOf('=');
    if (i <= 0)
      throw coreErrors.SLIPWAY_ERR_CONFIG_ASSIGNMENT({
        word: w,
        example: /^[A-Za-z_][A-Za-z0-9_]*$/.test(w) ? w : 'KEY',
      });
    const k = w.slice(0, i);
    assertConfigVarName(k);
    out[k] = w.slice(i + 1);
  }
  return out;
}
