/**
 * Stacks in the API, after Heroku's: `GET /stacks` lists the stacks this platform knows (with
 * whether each is built here), `GET|PATCH /apps/:app/stack` read and set the stack an app's
 * next build runs in (Heroku's `build_stack`; its running release keeps the stack it was built
 * in until a new build is released). An unknown or unbuilt stack is a 422 saying how to build it.
 */
import type { RouteRegistrar } from '../api/http-util.js';
import { sendJson } from '../api/http-util.js';
import type { SqliteStateStore } from '../state/sqlite-state-store.js';
import type { AppStacks } from './app-stacks.js';

const stackName = { type: 'string', pattern: '^[a-z0-9][a-z0-9.-]{0,63}$' } as const;

const stackSchema = {
  type: 'object',
  required: ['name', 'description', 'suite', 'built', 'default'],
  additionalProperties: false,
  properties: {
    name: { type: 'string' },
    description: { type: 'string' },
    suite: { type: 'string' },
    built: { type: 'boolean' },
    default: { type: 'boolean' },
  },
} as const;

const appStackSchema = {
  type: 'object',
  required: ['build_stack', 'stack'],
  additionalProperties: false,
  properties: {
    build_stack: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
    stack: {
      anyOf: [
        { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
        { type: 'null' },
      ],
    },
  },
} as const;

/** Register `/stacks` and `/apps/:app/stack`. */
export function registerStackRoutes(on: RouteRegistrar, state: SqliteStateStore, stacks: AppStacks): void {
  /** The app's next build's stack, and the stack its live release runs in. */
  const appStack = (app: string) => {
    const a = state.app(app);
    const live = state.currentRelease(a.id);
    const running = live?.slug ? state.slug(live.slug)?.stack : undefined;
    return { build_stack: { name: stacks.of(a.id) }, stack: running ? { name: running } : null };
  };
  on('GET', '/stacks', async (_q, res) => sendJson(res, 200, await stacks.list()), {
    summary: 'The stacks this platform knows, and which are built here',
    response: { 200: { type: 'array', items: stackSchema } },
  });
  on('GET', '/apps/:app/stack', async (_q, res, p) => sendJson(res, 200, appStack(p.app as string)), {
    summary: "An app's stack: its next build's and its live release's",
    response: { 200: appStackSchema },
  });
  on(
    'PATCH',
    '/apps/:app/stack',
    async (_q, res, p, _u, b) => {
      const a = state.app(p.app as string);
      await stacks.set(a.id, (b as { stack: string }).stack);
      sendJson(res, 200, appStack(a.name));
    },
    {
      summary: "Set the stack of an app's next build (the live release keeps its own until then)",
      body: {
        type: 'object',
        required: ['stack'],
        additionalProperties: false,
        properties: { stack: stackName },
      },
      response: { 200: appStackSchema },
    },
  );
}
