/**
 * First-party plugin: per-app HTTPS policy as route rules (`routeRules`). A plain-HTTP request to an
 * app that asks for it is redirected (308, method and body kept) to the same URL over HTTPS,
 * but only when the router has a certificate for the host (a redirect to a name it cannot
 * serve would break the app); HTTPS answers of an app with HSTS get `Strict-Transport-Security`
 * through an edit rule.
 */
import { definePlugin } from '@slipway/core';

/** One app's HTTPS policy. */
export interface HttpsPolicy {
  redirect: boolean;
  /** The `Strict-Transport-Security` value, or undefined for none. */
  hsts?: string;
}

/** Where the plugin reads the policies and what the HTTPS listener serves. Must be cheap. */
export interface HttpsPolicySource {
  policy(app: string): HttpsPolicy | undefined;
  /** The router has a certificate of its own (or a wildcard) for this host. */
  covers(host: string): boolean;
  /** Port of the HTTPS listener as clients reach it (443 is left out of the URL). */
  httpsPort(): number | undefined;
}

/** Options of the HTTPS policy plugin. */
export interface HttpsPolicyPluginOptions {
  source: HttpsPolicySource;
}

/** Stage of the policy tap: before maintenance (100), after host-rewriting plugins (0). */
export const HTTPS_POLICY_STAGE = 50;

/** Per-app redirect to HTTPS and HSTS: `kernel.use(httpsPolicyPlugin, { source })`. */
export const httpsPolicyPlugin = definePlugin<HttpsPolicyPluginOptions>({
  name: '@slipway/router/https-policy',
  register(reg, options) {
    const { source } = options;
    if (!source || typeof source.policy !== 'function')
      throw new TypeError(
        'httpsPolicyPlugin needs options.source with policy(app), covers(host), httpsPort()',
      );
    reg.hooks.routeRules.tap({ name: reg.name, stage: HTTPS_POLICY_STAGE }, (rules, ctx) => {
      const p = source.policy(ctx.app);
      if (p === undefined) return rules;
      if (p.hsts)
        rules.push({
          name: 'hsts',
          match: { protocol: 'https' },
          action: { kind: 'edit', responseHeaders: { 'Strict-Transport-Security': p.hsts } },
        });
      const port = p.redirect ? source.httpsPort() : undefined;
      if (port === undefined) return rules;
      for (const host of ctx.hosts)
        if (source.covers(host))
          rules.push({
            name: 'https-redirect',
            match: { protocol: 'http', host },
            action: {
              kind: 'redirect',
              status: 308,
              location: `https://${host}${port === 443 ? '' : `:${port}`}`,
              keepPath: true,
            },
          });
      return rules;
    });
  },
});
