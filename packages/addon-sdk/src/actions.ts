/**
 * Provider-declared actions: what a provider author writes in `AddonDefinition.actions`, and
 * how the SDK turns them into catalogue entries the platform exposes generically. The SDK checks
 * the input against the action's schema and hands the handler the provider's own record of the
 * resource, so a handler never trusts the caller for which database or mailbox it acts on.
 */
import { ADDON_ACTION_NAME, type AddonActionEntry, type AddonActionRequest } from '@slipway/core';
import type { AddonDefinition, ProviderContext } from './definition.js';
import { addonErrors } from './errors.js';
import type { ResourceRecord } from './resource-store.js';

/** What an action's handler receives: the platform's request plus the provider's own record. */
export interface ProviderActionRequest extends AddonActionRequest {
  /** The resource as the provider stored it at provision (config under the declared names). */
  resource: ResourceRecord;
}

/** One extra operation of a provider (`backups:capture`), as its author declares it. */
export interface AddonActionDefinition<O = Record<string, unknown>, S = unknown> {
  /** One line for listings and help. */
  description: string;
  /** JSON Schema of the input (an object); absent = no input accepted. */
  inputSchema?: object;
  /** True when it changes nothing (a listing): it may then also be called with GET. */
  readOnly?: boolean;
  /** Do it; the result goes back to the caller as JSON. */
  run(req: ProviderActionRequest, ctx: ProviderContext<O, S>): unknown | Promise<unknown>;
}

/** An input schema that accepts nothing: actions without `inputSchema` take no input. */
const NO_INPUT = { type: 'object', additionalProperties: false, properties: {} } as const;

/** Refuse badly named actions when the provider is defined (not at the first call). */
export function checkActionNames(def: AddonDefinition<any, any>): void {
  for (const name of Object.keys(def.actions ?? {}))
    if (!ADDON_ACTION_NAME.test(name))
      throw addonErrors.SLIPWAY_ERR_ADDON_MANIFEST({
        where: ` (add-on ${def.id})`,
        field: `actions.${name}`,
        detail: 'must be lower-case words separated by ":" (e.g. backups:capture)',
      });
}

/** The catalogue entries of a definition's actions; `run` is how one call reaches the provider. */
export function actionEntries(
  def: AddonDefinition<any, any>,
  run: (name: string, req: AddonActionRequest) => Promise<unknown>,
): Map<string, AddonActionEntry> {
  const out = new Map<string, AddonActionEntry>();
  for (const [name, a] of Object.entries(def.actions ?? {}))
    out.set(name, {
      name,
      description: a.description,
      inputSchema: a.inputSchema ?? NO_INPUT,
      ...(a.readOnly ? { readOnly: true } : {}),
      run: (req) => run(name, req),
    });
  return out;
}
