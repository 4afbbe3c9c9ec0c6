/**
 * A custom route plugin: a header- or cookie-switched canary, as declarative route rules. A request for `<app>` that
 * carries `X-Canary: 1` (or the cookie `canary=1`) goes to the app `<app>-canary` instead; every
 * other request is left alone. The canary is an ordinary app, deployed and scaled on its own.
 */
import { definePlugin, type IncomingRequestInfo, type RouteRule } from '@slipway/core';

/** Options of the canary plugin (all optional; this is also what slipway.config.json takes). */
export interface CanaryOptions {
  /** Request header that asks for the canary when it is `1`. Default `x-canary`. */
  header?: string;
  /** Cookie that asks for the canary when it is `1`. Default `canary`. */
  cookie?: string;
  /** Suffix of the canary app's name. Default `-canary`. */
  suffix?: string;
  /**
   * Apps that have a canary. Default: every app; then a canary request for an app without one
   * gets the router's 404, which is why listing them is the safer setting.
   */
  apps?: string[];
}

/** Runs before maintenance (stage 100), so maintenance mode applies to the canary app too. */
export const CANARY_STAGE = 50;

/** The plugin's name, carried by its tap. */
export const CANARY_PLUGIN = '@slipway-examples/custom-platform/canary';

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Whether a request asks for the canary: header `1`, or cookie `1` (first match wins). `header`
 * is lower-case, as Node gives incoming header names.
 */
export function wantsCanary(
  headers: IncomingRequestInfo['headers'],
  header = 'x-canary',
  cookie = 'canary',
): boolean {
  const h = headerValue(headers[header]);
  if (h !== undefined) return h.trim() === '1';
  const jar = headerValue(headers.cookie);
  if (!jar) return false;
  for (const pair of jar.split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === cookie) return pair.slice(eq + 1).trim() === '1';
  }
  return false;
}

/** The canary router plugin: `kernel.use(canaryPlugin, { apps: ['shop'] })`. */
export const canaryPlugin = definePlugin<CanaryOptions>({
  name: CANARY_PLUGIN,
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      header: { type: 'string', pattern: '^[A-Za-z0-9-]+$' },
      cookie: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$' },
      suffix: { type: 'string', pattern: '^-[a-z0-9-]+$' },
      apps: { type: 'array', items: { type: 'string', minLength: 1 } },
    },
  },
  // Pure registration: route rules, nothing to start and no code per request, so HAProxy
  // serves the canary as well as the Node router.
  register(reg, options) {
    const suffix = options.suffix ?? '-canary';
    const header = (options.header ?? 'x-canary').toLowerCase();
    const cookie = options.cookie ?? 'canary';
    const apps = options.apps ? new Set(options.apps) : undefined;
    const memo = new Map<string, RouteRule[]>();
    const rulesOf = (app: string): RouteRule[] => {
      let r = memo.get(app);
      if (r) return r;
      const to = { kind: 'app', app: `${app}${suffix}` } as const;
      // The header decides when it is sent (`X-Canary: 0` wins over the cookie), as wantsCanary.
      r = [
        { name: 'canary-header', match: { header: { name: header, value: '1' } }, action: to },
        {
          name: 'canary-cookie',
          match: { header: { name: header, absent: true }, cookie: { name: cookie, value: '1' } },
          action: to,
        },
      ];
      memo.set(app, r);
      return r;
    };
    reg.hooks.routeRules.tap({ name: CANARY_PLUGIN, stage: CANARY_STAGE }, (rules, ctx) => {
      if (ctx.app.endsWith(suffix) || (apps && !apps.has(ctx.app))) return rules;
      rules.push(...rulesOf(ctx.app));
      return rules;
    });
  },
});

export default canaryPlugin;
