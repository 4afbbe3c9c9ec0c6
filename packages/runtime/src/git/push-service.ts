/**
 * git push deploys. One bare repository per app (`<dataDir>/git/<app-id>.git`, so a re-created
 * app never inherits an old history). A push runs `git http-backend` with a one-time secret in
 * its environment; the repository's pre-receive hook (pre-receive-hook.ts) calls back over
 * loopback with it, first to have the refs checked, then to build the pushed tree. The secret
 * is the callbacks' only credential: the pusher's API token never reaches git or the hook, so
 * anything the push runs (hooks, git's own children) cannot read it and use it after the push.
 * The hook relays the build output (git shows it as `remote: ` lines) and fails when the build or the
 * release fails, so git leaves the ref where it was and the running release keeps serving.
 *
 * Policy: only `main`/`master` deploy, one ref per push, no deletes, ref names limited to
 * [A-Za-z0-9._/-]; a force push (non-fast-forward) is accepted, as Heroku does.
 */
import { execFile } from 'node:child_process';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { access, chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isSlipwayError } from '@slipway/core';
import { type Principal, withPrincipal } from '../accounts/principal.js';
import { boundedLineWriter } from '../api/http-util.js';
import { type DeployService, receiveUpload } from '../deploy-service.js';
import type { AppRecord } from '../state/records.js';
import type { SqliteStateStore } from '../state/sqlite-state-store.js';
import { gitErrors } from './errors.js';

const run = promisify(execFile);
const HOOK = new URL('./pre-receive-hook.js', import.meta.url).href;
const SAFE_REF = /^refs\/heads\/[A-Za-z0-9._/-]+$/;

/** What the push service needs. */
export interface GitPushOptions {
  state: SqliteStateStore;
  deploys: DeployService;
  dataDir: string;
  /** Largest accepted push (pack) or pushed tree archive, bytes. */
  maxPushBytes: number;
  /** Public URL of an app (printed after a successful push). */
  webUrl(app: string): string;
}

/** A push in progress, known by its secret. */
interface PushSession {
  appId: string;
  checked: boolean;
  building: boolean;
  /** The pushed commit: SOURCE_VERSION of the build, and the release says `Deploy <short sha>`. */
  commit?: string;
  /** Who pushed: the build (and so its release) runs as them. */
  pusher: Principal | undefined;
}

/** Owns the app repositories and the push callbacks. */
export class GitPushService {
  readonly reposDir: string;
  private readonly sessions = new Map<string, PushSession>();
  /** Repositories set up by this process (every git request of a push asks for its repo). */
  private readonly ready = new Set<string>();

  constructor(private readonly o: GitPushOptions) {
    this.reposDir = join(o.dataDir, 'git');
  }

  /**
   * The bare repository of `app`, created on first use; its hook is rewritten once per platform
   * process, so it always runs this installation's hook.
   */
  async ensureRepo(app: AppRecord): Promise<string> {
    const dir = join(this.reposDir, `${app.id}.git`);
    if (this.ready.has(app.id)) return dir;
    const exists = await access(join(dir, 'HEAD')).then(
      () => true,
      () => false,
    );
    if (!exists) {
      await mkdir(this.reposDir, { recursive: true, mode: 0o700 });
      await run('git', ['init', '--quiet', '--bare', dir]);
      await run('git', ['--git-dir', dir, 'symbolic-ref', 'HEAD', 'refs/heads/main']);
    }
    const hook = join(dir, 'hooks', 'pre-receive');
    // Node runs the shebang'd file in either module system; `import()` loads the compiled hook.
    await writeFile(hook, `#!${process.execPath}\nimport(${JSON.stringify(HOOK)});\n`);
    await chmod(hook, 0o755);
    this.ready.add(app.id);
    return dir;
  }

  /** Remove an app's repository (when the app is destroyed). */
  async removeRepo(app: AppRecord): Promise<void> {
    this.ready.delete(app.id);
    await rm(join(this.reposDir, `${app.id}.git`), { recursive: true, force: true });
  }

  /**
   * Start a push by `pusher`: environment for `git http-backend` (and so for the hook); it holds
   * no API token.
   */
  open(
    app: AppRecord,
    callbackBase: string,
    pusher?: Principal,
  ): { secret: string; env: Record<string, string> } {
    const secret = randomBytes(24).toString('hex');
    this.sessions.set(secret, { appId: app.id, checked: false, building: false, pusher });
    return {
      secret,
      env: {
        SLIPWAY_PUSH_URL: `${callbackBase}/internal/git-push/`,
        SLIPWAY_PUSH_SECRET: secret,
        GIT_CONFIG_COUNT: '2',
        GIT_CONFIG_KEY_0: 'receive.maxInputSize',
        GIT_CONFIG_VALUE_0: String(this.o.maxPushBytes),
        // Heroku accepts force pushes; a shared bare repo would refuse them by default.
        GIT_CONFIG_KEY_1: 'receive.denyNonFastForwards',
        GIT_CONFIG_VALUE_1: 'false',
      },
    };
  }

  /** End a push (its secret stops working). */
  close(secret: string): void {
    this.sessions.delete(secret);
  }

  /** The push a callback's secret belongs to; throws the 403 refusal otherwise. */
  authenticate(secret: string | string[] | undefined): PushSession {
    // Compared in constant time against every open push, so the answer time says nothing
    // about how much of a guessed secret is right (a Map lookup would hash and compare early).
    const given = Buffer.from(typeof secret === 'string' ? secret : '');
    let found: PushSession | undefined;
    for (const [key, s] of this.sessions) {
      const k = Buffer.from(key);
      if (given.length === k.length && timingSafeEqual(given, k)) found = s;
    }
    if (!found) throw gitErrors.SLIPWAY_ERR_GIT_PUSH_SECRET();
    return found;
  }

  /** Hook callback 1: may these refs be updated? Throws the refusal. */
  check(
    secret: string | string[] | undefined,
    refs: { old: string; new: string; ref: string; emptyTree: boolean }[],
  ): void {
    const s = this.authenticate(secret);
    for (const r of refs) {
      if (!SAFE_REF.test(r.ref) || r.ref.includes('..'))
        throw gitErrors.SLIPWAY_ERR_GIT_REF_NAME({ ref: JSON.stringify(r.ref) });
      const branch = r.ref.slice('refs/heads/'.length);
      if (branch !== 'main' && branch !== 'master')
        throw gitErrors.SLIPWAY_ERR_GIT_REF({ ref: r.ref, branch });
      if (/^0+$/.test(r.new)) throw gitErrors.SLIPWAY_ERR_GIT_DELETE({ ref: r.ref });
      if (r.emptyTree) throw gitErrors.SLIPWAY_ERR_GIT_EMPTY();
    }
    if (refs.length > 1)
      throw gitErrors.SLIPWAY_ERR_GIT_REF({ ref: refs.map((r) => r.ref).join(' and '), branch: 'HEAD' });
    s.checked = true;
    const commit = refs[0]?.new;
    if (commit) s.commit = commit;
  }

  /** Hook callback 2: build the pushed tree (the request body), streaming the output back. */
  async build(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const s = this.authenticate(req.headers['x-slipway-push-secret']);
    if (!s.checked || s.building) throw gitErrors.SLIPWAY_ERR_GIT_PUSH_SECRET();
    s.building = true;
    const app = this.o.state.app(s.appId);
    let file: string;
    try {
      file = await receiveUpload(req, this.o.dataDir, this.o.maxPushBytes);
    } catch (e) {
      if (isSlipwayError(e) && e.code === 'SLIPWAY_ERR_RUNTIME_BODY_TOO_LARGE')
        throw gitErrors.SLIPWAY_ERR_GIT_TOO_LARGE({ limit: this.o.maxPushBytes }, { cause: e });
      throw e;
    }
    let buildId: string;
    try {
      const start = () => this.o.deploys.start(app, file, s.commit ? { sourceVersion: s.commit } : {});
      buildId = (await withPrincipal(s.pusher, start)).id;
    } finally {
      await rm(file, { force: true });
    }
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', trailer: 'x-slipway-status' });
    const write = boundedLineWriter(res);
    await new Promise<void>((resolve) => {
      this.o.deploys.follow(buildId, (line) => {
        if (line !== null) {
          write(line);
          return;
        }
        const b = this.o.state.build(buildId);
        const ok = b?.status === 'succeeded' && !!b.releaseVersion;
        if (ok) res.write(`       ${this.o.webUrl(app.name)}/ deployed to Slipway\n`);
        else res.write(' !     Push rejected: the build or release failed (see above).\n');
        res.addTrailers({ 'x-slipway-status': ok ? 'succeeded' : 'failed' });
        res.end();
        resolve();
      });
    });
  }
}
