/**
 * The environment of a build worker, made from nothing: the build variables a buildpack needs
 * and the host settings that let package managers reach their registries, never the platform's
 * own environment (its token, data dir, npm's `npm_config_*` of whoever started it). The app's
 * config reaches buildpacks through ENV_DIR and `ctx.env`, as on Heroku.
 */
import { isAbsolute } from 'node:path';
import { othersCanReach } from './app-dirs.js';

/**
 * Host settings passed through when set: locale, proxies, CA bundles and registry mirrors. They
 * describe the machine's network, not the platform, and builds fail without them behind a
 * proxy or a private CA.
 */
export const BUILD_ENV_PASSTHROUGH = [
  'LANG',
  'LC_ALL',
  'TZ',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'NODE_EXTRA_CA_CERTS',
  'REQUESTS_CA_BUNDLE',
  'CURL_CA_BUNDLE',
  'GIT_SSL_CAINFO',
  'PIP_CERT',
  'PIP_INDEX_URL',
  'PIP_EXTRA_INDEX_URL',
  'PIP_FIND_LINKS',
  'PIP_DEFAULT_TIMEOUT',
  'PIP_DISABLE_PIP_VERSION_CHECK',
  'npm_config_registry',
  'npm_config_nodedir',
  'GOPROXY',
  'GOSUMDB',
  'GONOSUMDB',
  'GOPRIVATE',
  'GOTOOLCHAIN',
  'JAVA_HOME',
] as const;

/**
 * The PATH an app uid can use: the entries of `path` it can reach (a toolchain under /root is
 * skipped, so `python3` resolves to the system's rather than failing with EACCES). With
 * `forOthers` false (no uid switch) the PATH is kept as it is.
 */
export async function reachablePath(path: string, forOthers: boolean): Promise<string> {
  if (!forOthers) return path;
  const kept: string[] = [];
  for (const entry of path.split(':'))
    if (isAbsolute(entry) && !kept.includes(entry) && (await othersCanReach(entry))) kept.push(entry);
  return kept.join(':') || '/usr/local/bin:/usr/bin:/bin';
}

/** The environment a build worker starts with. */
export async function buildEnvironment(opts: {
  /** The app's build HOME (package manager caches live under it). */
  home: string;
  /** The build's own temp dir. */
  tmp: string;
  /** True when the build runs as another uid than the platform's. */
  isolated: boolean;
  /** The platform's environment to take PATH and the pass-through settings from. */
  from?: NodeJS.ProcessEnv;
}): Promise<Record<string, string>> {
  const from = opts.from ?? process.env;
  const env: Record<string, string> = {};
  for (const k of BUILD_ENV_PASSTHROUGH) {
    const v = from[k];
    if (v !== undefined) env[k] = v;
  }
  return {
    LANG: 'C.UTF-8',
    ...env,
    PATH: await reachablePath(from.PATH ?? '/usr/local/bin:/usr/bin:/bin', opts.isolated),
    HOME: opts.home,
    TMPDIR: opts.tmp,
    // The worker is node: no inherited --require or inspector from the platform's NODE_OPTIONS.
    NODE_OPTIONS: '',
    // The build HOME has no ~/.npmrc: keep npm's notices out of the build output.
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
  };
}
