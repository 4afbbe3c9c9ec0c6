/**
 * Add-on actions: extra operations a provider offers on its own resources (`backups:capture`,
 * `inbox:list`…). A provider declares them in its catalogue entry; the platform exposes every
 * action the same way (`/apps/:app/addons/:addon/actions/:action`) without knowing the provider,
 * so no platform code imports a provider package to reach its features.
 */

/** The add-on an action runs on, as the platform knows it. */
export interface AddonActionTarget {
  /** The platform's add-on id. */
  id: string;
  /** Attachment name (config var prefix): `POSTGRES`, `PRIMARY`. */
  name: string;
  /** Service name (`postgres`). */
  service: string;
  /** Plan name (`shared`). */
  plan: string;
  /** The provider's resource id (what `provision` returned). */
  resource: string;
  /** When the add-on was created (ISO 8601). */
  createdAt: string;
}

/** One call of an action. */
export interface AddonActionRequest {
  /** Name of the app that called it. */
  app: string;
  /** The add-on it runs on. */
  addon: AddonActionTarget;
  /** The caller's input, validated against the action's `inputSchema` (defaults applied). */
  input: Record<string, unknown>;
}

/** An action as the catalogue holds it. */
export interface AddonActionEntry {
  /** `backups:capture`: lower case words, `:`-separated. */
  name: string;
  /** One line for listings and help. */
  description: string;
  /** JSON Schema of the input (an object); absent = no input. */
  inputSchema?: object;
  /** True when the action changes nothing: it may then also be called with GET (input from the query). */
  readOnly?: boolean;
  /** Run it; the result is sent as JSON. Throw coded errors for the caller's mistakes. */
  run(req: AddonActionRequest): Promise<unknown>;
}

/** What an action name looks like. */
export const ADDON_ACTION_NAME = /^[a-z][a-z0-9-]*(:[a-z][a-z0-9-]*)*$/;
