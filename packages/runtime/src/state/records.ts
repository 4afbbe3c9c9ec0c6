/** Plain records the state store reads and writes; the API renders them Heroku-shaped. */

/** An app. */
export interface AppRecord {
  id: string;
  name: string;
  /** Pinned buildpack ids; empty = detect. */
  buildpacks: string[];
  maintenance: boolean;
  createdAt: string;
  updatedAt: string;
}

/** Metadata of a stored slug (kept beside the archive, never inside it). */
export interface SlugRecord {
  checksum: string;
  size: number;
  processTypes: Record<string, string>;
  buildpacks: { id: string; name: string }[];
  stack: string;
  /** The app's app.json at build time, when it had one. */
  appJson?: Record<string, unknown> | undefined;
  createdAt: string;
}

/** Status of a build or release. */
export type Status = 'pending' | 'succeeded' | 'failed';

/** A build of an app. */
export interface BuildRecord {
  id: string;
  appId: string;
  status: Status;
  slug: string | null;
  releaseVersion: number | null;
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

/** One immutable release: a slug plus a config snapshot, numbered per app. */
export interface ReleaseRecord {
  id: string;
  appId: string;
  version: number;
  description: string;
  status: Status;
  slug: string | null;
  config: Record<string, string>;
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Desired dynos of one process type. */
export interface FormationRecord {
  type: string;
  quantity: number;
  size: string;
  updatedAt: string;
}

/** A custom domain routed to an app. */
export interface DomainRecord {
  id: string;
  appId: string;
  hostname: string;
  createdAt: string;
}

/** A log drain (delivery comes with the workflow issue; the record lives here). */
export interface DrainRecord {
  id: string;
  appId: string;
  url: string;
  token: string;
  createdAt: string;
}

/** An add-on attached to an app. */
export interface AddonRecord {
  id: string;
  appId: string;
  service: string;
  plan: string;
  /** Attachment name (config var prefix). */
  name: string;
  providerId: string;
  /** Names of the config vars it set. */
  configVars: string[];
  createdAt: string;
  /** Set on an attachment of another app's add-on (`addons:attach`): the owning row's id. */
  ownerId?: string;
}

/** Where an app's `scripts.postdeploy` is: waiting for the first release, running, or done. */
export type PostdeployStatus = 'pending' | 'running' | 'succeeded' | 'failed';

/** The app.json setup of an app that has a postdeploy script (Heroku's app-setup `postdeploy`). */
export interface AppSetupRecord {
  appId: string;
  postdeploy: {
    command: string;
    status: PostdeployStatus;
    /** Exit status once run; null while pending, running, or when a restart interrupted it. */
    exitCode: number | null;
    /** Its output (the tail), once run. */
    output: string | null;
  };
  createdAt: string;
  updatedAt: string;
}
