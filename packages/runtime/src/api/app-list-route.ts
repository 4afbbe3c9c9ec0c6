/**
 * The list route every app resource has (`GET /apps/:app/domains`, `…/log-drains`, `…/builds`,
 * `…/dynos`, `…/addons`): the app by its name or a coded 404, its rows, each rendered with it.
 */
import type { AppRecord } from '../state/records.js';
import { type RouteRegistrar, sendJson } from './http-util.js';
import { listOf } from './response-schemas.js';

/** What an app list route declares. */
export interface AppListRoute<T> {
  /** One line for the OpenAPI document. */
  summary: string;
  /** The answer schema of one rendered row. */
  item: object;
  rows(app: AppRecord): readonly T[];
  render(app: AppRecord, row: T): unknown;
}

/** Add `GET path` answering the app's rendered rows. */
export function onAppList<T>(
  on: RouteRegistrar,
  state: { app(name: string): AppRecord },
  path: string,
  r: AppListRoute<T>,
): void {
  on(
    'GET',
    path,
    async (_q, res, p) => {
      const a = state.app(p.app as string);
      sendJson(
        res,
        200,
        r.rows(a).map((row) => r.render(a, row)),
      );
    },
    { summary: r.summary, response: { 200: listOf(r.item) } },
  );
}
