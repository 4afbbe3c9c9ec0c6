/**
 * First-party plugin: answers ACME http-01 challenges (`GET /.well-known/acme-challenge/TOKEN`)
 * before any app, redirect or maintenance page sees the request. For an app's hosts the
 * pending challenges are route rules (`routeRules`), so both data planes answer them; a host
 * no app serves gets its answer from the `route` tap, on the Node router only.
 */
import { definePlugin, type RouteRule } from '@slipway/core';

/** The pending challenges (kept by the ACME client of the platform). Must be cheap. */
export interface AcmeChallenges {
  /** The key authorization for `token` of an order for `host`, if one is pending. */
  keyAuthorization(host: string, token: string): string | undefined;
  /** The pending `[token, keyAuthorization]` pairs of `host` (for route rules; cheap). */
  challengesFor?(host: string): Iterable<readonly [string, string]>;
}

/** Options of the ACME challenge plugin. */
export interface AcmeChallengePluginOptions {
  challenges: AcmeChallenges;
}

/** Path prefix of RFC 8555 http-01 challenges. */
export const ACME_CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

/** Early: a challenge must be answered even for an app in maintenance or redirected to HTTPS. */
export const ACME_CHALLENGE_STAGE = -100;

/** The rule answering one pending challenge of `host`. */
function challengeRule(host: string, token: string, answer: string): RouteRule {
  return {
    name: 'acme-challenge',
    match: { host, pathPrefix: `${ACME_CHALLENGE_PREFIX}${token}` },
    action: {
      kind: 'respond',
      status: 200,
      headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' },
      body: answer,
    },
  };
}

/** http-01 answers: `kernel.use(acmeChallengePlugin, { challenges })`. */
export const acmeChallengePlugin = definePlugin<AcmeChallengePluginOptions>({
  name: '@slipway/router/acme-challenge',
  apply(kernel, options) {
    const { challenges } = options;
    if (!challenges || typeof challenges.keyAuthorization !== 'function')
      throw new TypeError('acmeChallengePlugin needs options.challenges with keyAuthorization(host, token)');
    if (typeof challenges.challengesFor === 'function') {
      const pendingOf = challenges.challengesFor.bind(challenges);
      kernel.hooks.routeRules.tap(
        { name: '@slipway/router/acme-challenge', stage: ACME_CHALLENGE_STAGE },
        (rules, ctx) => {
          for (const host of ctx.hosts)
            for (const [token, answer] of pendingOf(host)) rules.push(challengeRule(host, token, answer));
          return rules;
        },
      );
    }
    kernel.hooks.route.tap(
      { name: '@slipway/router/acme-challenge', stage: ACME_CHALLENGE_STAGE },
      (decision, req) => {
        // An app's hosts have their answers as rules already.
        if (decision.kind !== 'none' && challenges.challengesFor) return decision;
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
