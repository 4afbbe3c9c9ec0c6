/** Django's `collectstatic`, run at build time as Heroku does, unless the app opts out. */
import type { BuildpackCompileContext } from '@slipway/buildpack-sdk';
import { SITE_DIR } from './dependencies.js';

/** Run `manage.py collectstatic --noinput` when the app is a Django app and has not opted out. */
export async function collectStatic(
  ctx: BuildpackCompileContext,
  python: string,
  installed: ReadonlySet<string>,
): Promise<void> {
  if (!installed.has('django') || !(await ctx.exists('manage.py'))) return;
  if (ctx.env.DISABLE_COLLECTSTATIC && ctx.env.DISABLE_COLLECTSTATIC !== '0') {
    ctx.log.step('Skipping Django collectstatic (DISABLE_COLLECTSTATIC is set)');
    return;
  }
  ctx.log.step('$ python manage.py collectstatic --noinput');
  const r = await ctx.run(python, ['manage.py', 'collectstatic', '--noinput'], {
    // No bytecode in the runtime and site-packages: they are packed once and reused (slug-members.ts).
    env: { PYTHONPATH: `${ctx.buildDir}/${SITE_DIR}`, PYTHONDONTWRITEBYTECODE: '1' },
    allowFailure: true,
  });
  if (r.code !== 0)
    ctx.fail(
      'Django collectstatic failed (see its output above)',
      'Set STATIC_ROOT in your settings and fix the error above, or set the config var DISABLE_COLLECTSTATIC=1 to skip it.',
    );
}
