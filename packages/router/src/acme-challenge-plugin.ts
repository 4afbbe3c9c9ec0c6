/**
 * First-party plugin: answers ACME http-01 challenges (`GET /.well-known/acme-challenge/TOKEN`)
 * through the `route` hook, for whatever host the pending order is for, before any app,
 * redirect or maintenance page sees the request. Any other request costs one prefix check.
 */
import { definePlugin } from '@slipway/core';

/** The pending challenges (kept by the ACME client of the platform). Must be cheap. */
export interface AcmeChallenges {
  /** The key authorization for `token` of an order for `host`, if one is pending. */
  keyAuthorization(host: string, token: string): string | undefined;
}

/** Options of the ACME challenge plugin. */
export interface AcmeChallengePluginOptions {
  challenges: AcmeChallenges;
}

/** Path prefix of RFC 8555 http-01 challenges. */
export const ACME_CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

/** Early: a challenge must be answered even for an app in maintenance or redirected to HTTPS. */
export const ACME_CHALLENGE_STAGE = -100;

/** http-01 answers: `kernel.use(acmeChallengePlugin, { challenges })`. */
export const acmeChallengePlugin = definePlugin<AcmeChallengePluginOptions>({
  name: '@slipway/router/acme-challenge',
  apply(kernel, options) {
    const { challenges } = options;
    if (!challenges || typeof challenges.keyAuthorization !== 'function')
      throw new TypeError('acmeChallengePlugin needs options.challenges with keyAuthorization(host, token)');
    kernel.hooks.route.tap(
      { name: '@slipway/router/acme-challenge', stage: ACME_CHALLENGE_STAGE },
      (decision, req) => {
        if (!req.url.startsWith(ACME_CHALLENGE_PREFIX) || (req.method !== 'GET' && req.method !== 'HEAD'))
          return decision;
        const token = req.url.slice(ACME_CHALLENGE_PREFIX.length).split('?')[0]!;
        const answer = challenges.keyAuthorization(req.host, token);
        if (answer === undefined) return decision;
        return {
          kind: 'respond',
          status: 200,
          headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' },
          body: answer,
          ...(decision.kind === 'none' ? {} : { app: decision.app }),
        };
      },
    );
  },
});
