/**
 * What other packages' tests share with the router's own, as `@slipway/router/test-kit` (the
 * runtime's HAProxy platform and deploy tests use it too).
 */
import { findHaproxy } from './haproxy/haproxy-router.js';

/**
 * In a `before` hook (`await requireHaproxy(this)`): go on when haproxy is installed; else fail
 * under CI=true (CI installs it), and elsewhere skip the suite, loudly, naming it.
 */
export async function requireHaproxy(ctx: Mocha.Context): Promise<void> {
  if (await findHaproxy()) return;
  const suite = ctx.test?.parent?.fullTitle() || 'this suite';
  if (process.env.CI === 'true')
    throw new Error(`haproxy is not installed (apt-get install haproxy): "${suite}" needs it`);
  console.warn(`\n  !!! SKIPPED: "${suite}" needs haproxy (apt-get install haproxy)\n`);
  ctx.skip();
}
