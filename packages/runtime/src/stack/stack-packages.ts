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

/** The Debian suite of each stack name (Debian 13, "trixie", is stable). */
export const STACK_SUITES: Readonly<Record<string, string>> = { [DEFAULT_STACK]: 'trixie' };

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
  const digest = (packages: readonly string[]) =>
    createHash('sha256')
      .update(JSON.stringify({ v: STACK_RECIPE_VERSION, suite, mirror, packages: [...packages].sort() }))
      .digest('hex');
  const build = [...RUN_PACKAGES, ...BUILD_PACKAGES];
  return [
    { kind: 'run', image: `slipway/stack:${name}`, packages: RUN_PACKAGES, digest: digest(RUN_PACKAGES) },
    { kind: 'build', image: `slipway/stack:${name}-build`, packages: build, digest: digest(build) },
  ];
}
