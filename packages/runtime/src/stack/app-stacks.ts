/**
 * A stack per app, as Heroku's: each app names the stack its next build runs in (`apps:create
 * --stack`, `stack:set`, app.json `stack`); an app that names none builds in the platform's
 * default. A change takes effect at the next build: a slug records the stack it was built in,
 * and dynos run in their slug's stack, so a rollback runs where it was built. The choice lives
 * in its own table (with its own migrations), gone with the app.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { migrateTables } from '../state/table-migrations.js';
import { stackErrors } from './errors.js';
import { stackCacheDir } from './stack-builder.js';
import { DEFAULT_STACK, STACKS } from './stack-packages.js';

/** A stack as `slipway stacks` and `GET /stacks` show it. */
export interface StackListing {
  name: string;
  description: string;
  /** Debian suite. */
  suite: string;
  /** Both roots are in the stack cache (`slipway stack:build NAME` made them). */
  built: boolean;
  /** The platform's default: apps that name none build here. */
  default: boolean;
}

const migrations = [
  `CREATE TABLE app_stacks (
     app_id TEXT PRIMARY KEY REFERENCES apps(id) ON DELETE CASCADE,
     stack TEXT NOT NULL
   )`,
];

/** True when stack `name`'s run and build roots are in the stack cache. */
export async function stackBuilt(name: string, cacheDir = stackCacheDir()): Promise<boolean> {
  const ok = (f: string) =>
    access(join(cacheDir, name, f)).then(
      () => true,
      () => false,
    );
  return (await ok('run.digest')) && (await ok('build.digest'));
}

/** Throw the coded error unless `name` is a stack Slipway knows and its roots are built. */
export async function requireStack(name: string, cacheDir = stackCacheDir()): Promise<void> {
  if (!STACKS[name])
    throw stackErrors.SLIPWAY_ERR_STACK_UNKNOWN({
      name: name.slice(0, 60),
      known: Object.keys(STACKS).join(', '),
    });
  if (!(await stackBuilt(name, cacheDir)))
    throw stackErrors.SLIPWAY_ERR_STACK_NOT_BUILT({ name, cache: cacheDir });
}

/** The apps' stacks over the state store's database. */
export class AppStacks {
  /** `defaultStack`: the platform's (its config's `stack`, else slipway-13). */
  constructor(
    private readonly db: Database.Database,
    readonly defaultStack: string = DEFAULT_STACK,
    private readonly cacheDir = stackCacheDir(),
  ) {
    migrateTables(db, 'app_stack_migrations', migrations);
  }

  /** The stack app `appId`'s next build runs in. */
  of(appId: string): string {
    const r = this.db.prepare('SELECT stack FROM app_stacks WHERE app_id = ?').get(appId) as
      | { stack: string }
      | undefined;
    return r?.stack ?? this.defaultStack;
  }

  /** Check `name` (known, built), then make it app `appId`'s stack from its next build on. */
  async set(appId: string, name: string): Promise<void> {
    await requireStack(name, this.cacheDir);
    this.db
      .prepare(
        'INSERT INTO app_stacks (app_id, stack) VALUES (?, ?) ON CONFLICT(app_id) DO UPDATE SET stack = excluded.stack',
      )
      .run(appId, name);
  }

  /** Every stack Slipway knows, with whether it is built here. */
  async list(): Promise<StackListing[]> {
    return Promise.all(
      Object.entries(STACKS).map(async ([name, r]) => ({
        name,
        description: r.description,
        suite: r.suite,
        built: await stackBuilt(name, this.cacheDir),
        default: name === this.defaultStack,
      })),
    );
  }
}
