/**
 * What a Slipway stack carries: the Debian suite, the packages of its run image (what Heroku's
 * stack carries at run time: certificates, time zones, locales and the shared libraries apps
 * link against) and of its build variant (compilers and headers). The digest of this recipe
 * names a built root: a change here rebuilds the stack, nothing else does.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_STACK as CORE_DEFAULT_STACK } from '@slipway/core';

/** Bump when the way a root is made changes (not its package list): cached roots are rebuilt. */
export const STACK_RECIPE_VERSION = 1;

/** The stack built when no name is given; `STACK` in dynos and builds. */
export const DEFAULT_STACK = CORE_DEFAULT_STACK.id;

/** What names a stack: its Debian suite, and the packages renamed there (sonames move on). */
export interface StackRecipe {
  /** Debian suite debootstrap installs (its apt sources name it, so buildpacks read it too). */
  suite: string;
  /** What `slipway stacks` and `apps:info` say of it. */
  description: string;
  /** Packages of the lists below under another name in this suite (`libicu76` → `libicu78`). */
  renamed?: Readonly<Record<string, string>>;
}

/**
 * The stacks Slipway knows. `slipway-13` is Debian 13 (trixie, stable); `slipway-14` is Debian
 * testing (forky, to be Debian 14), for runtimes whose Debian builds need its newer C library
 * (Python 3.14, JDK 25). Testing moves: its root is as of the day it was built.
 */
export const STACKS: Readonly<Record<string, StackRecipe>> = Object.freeze({
  [DEFAULT_STACK]: { suite: 'trixie', description: CORE_DEFAULT_STACK.description },
  'slipway-14': {
    suite: 'testing',
    description: 'Slipway-14 (Debian testing, forky)',
    renamed: { libicu76: 'libicu78', libsodium23: 'libsodium26', libxml2: 'libxml2-16' },
  },
});

/** The Debian suite of each stack name. */
export const STACK_SUITES: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(Object.entries(STACKS).map(([n, r]) => [n, r.suite])),
);

/**
 * Run image packages on top of debootstrap's minbase. Tools a dyno's shell and buildpacks'
 * `.profile.d` scripts expect, then the libraries that common native modules and wheels link
 * against (Postgres, MySQL/MariaDB, OpenSSL, libxml2/libxslt, images, compression, ICU, …).
 */
export const RUN_PACKAGES: readonly string[] = [
  // base
  'bash',
  'ca-certificates',
  'curl',
  'file',
  'less',
  'locales',
  'netbase',
  'openssl',
  'procps',
  // PID 1 of a container dyno: reaps zombies and passes signals to the whole process group.
  'tini',
  'tzdata',
  // archives
  'bzip2',
  'gzip',
  'unzip',
  'xz-utils',
  'zstd',
  // shared libraries apps link against
  'libcurl4t64',
  'libexpat1',
  'libffi8',
  'libfreetype6',
  'libgdbm6t64',
  'libgmp10',
  'libgomp1',
  'libicu76',
  'libjpeg62-turbo',
  'libmagic1t64',
  'libmariadb3',
  'libpng16-16t64',
  'libpq5',
  'libreadline8t64',
  'libsodium23',
  'libsqlite3-0',
  'libssl3t64',
  'libwebp7',
  'libxml2',
  'libxslt1.1',
  'libyaml-0-2',
  'libzstd1',
  // Node.js, until the Node.js buildpack installs its runtime into the slug (see README: stacks).
  'nodejs',
];

/** Build variant: the run packages plus compilers, headers and the tools buildpacks call. */
export const BUILD_PACKAGES: readonly string[] = [
  'autoconf',
  'automake',
  'build-essential',
  'git',
  'libtool',
  'patch',
  'pkg-config',
  'libbz2-dev',
  'libcurl4-openssl-dev',
  'libexpat1-dev',
  'libffi-dev',
  'libfreetype-dev',
  'libgdbm-dev',
  'libgmp-dev',
  'libicu-dev',
  'libjpeg-dev',
  'liblzma-dev',
  'libmagic-dev',
  'libmariadb-dev',
  'libncurses-dev',
  'libpng-dev',
  'libpq-dev',
  'libreadline-dev',
  'libsodium-dev',
  'libsqlite3-dev',
  'libssl-dev',
  'libwebp-dev',
  'libxml2-dev',
  'libxslt1-dev',
  'libyaml-dev',
  'libzstd-dev',
  'uuid-dev',
  'zlib1g-dev',
];

/** One variant of a stack: what debootstrap installs into its root. */
export interface StackVariant {
  /** `run` or `build`. */
  kind: 'run' | 'build';
  /** Docker image tag: `slipway/stack:NAME` or `slipway/stack:NAME-build`. */
  image: string;
  packages: readonly string[];
  /** sha256 over the suite, mirror, recipe version and package list. */
  digest: string;
}

/** The two variants of stack `name` from `mirror`. */
export function stackVariants(name: string, suite: string, mirror: string): StackVariant[] {
  const renamed = STACKS[name]?.renamed ?? {};
  const rename = (list: readonly string[]) => list.map((p) => renamed[p] ?? p);
  const run = rename(RUN_PACKAGES);
  const digest = (packages: readonly string[]) =>
    createHash('sha256')
      .update(JSON.stringify({ v: STACK_RECIPE_VERSION, suite, mirror, packages: [...packages].sort() }))
      .digest('hex');
  const build = [...run, ...rename(BUILD_PACKAGES)];
  return [
    { kind: 'run', image: `slipway/stack:${name}`, packages: run, digest: digest(run) },
    { kind: 'build', image: `slipway/stack:${name}-build`, packages: build, digest: digest(build) },
  ];
}
