/**
 * One uid per app, for its builds and its dynos. Uids are allocated from a base upwards (no
 * passwd entry is needed; uids and gids that the host's /etc/passwd or /etc/group already use
 * are skipped) and recorded in `<dataDir>/app-uids.json` (0600, written atomically), so an app
 * keeps its uid across restarts and its files (build cache, HOME) stay its own. They are
 * allocated even when the platform is not root, so a later start as root keeps them; only
 * then are they used (`enforced`). The uid of a destroyed app is retired, never given again:
 * whatever it left in a shared place (/tmp) must not fall to the next app.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** An app's uid and gid (the same number; the group has no other member). */
export interface AppUser {
  uid: number;
  gid: number;
}

/** Where per-app uids start: above the ranges distributions and systemd use. */
export const UID_RANGE_START = 200_000;

/**
 * The default first uid of a data dir's apps: a block of 1000 in 200000–1199999 chosen by a
 * hash of the data dir, so two platforms on one host (a test run beside a real one) almost
 * never share uids (which would let their apps signal each other). Recorded with the table.
 */
export function defaultUidBase(dataDir: string): number {
  const h = createHash('sha256').update(resolve(dataDir)).digest().readUInt32BE(0);
  return UID_RANGE_START + (h % 1000) * 1000;
}

/** True when this process can switch uids (it is root). */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Ids the host's account files already give to someone. */
async function hostIds(): Promise<Set<number>> {
  const ids = new Set<number>();
  for (const file of ['/etc/passwd', '/etc/group']) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      const id = Number(line.split(':')[2]);
      if (Number.isInteger(id)) ids.add(id);
    }
  }
  return ids;
}

/** The per-app uid table of one data dir. */
export class AppUsers {
  private writes: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: string,
    private readonly uids: Record<string, number>,
    private readonly retired: number[],
    private readonly uidBase: number,
    private readonly taken: Set<number>,
    /** True when uids are applied (the platform is root); false: recorded only. */
    readonly enforced: boolean,
  ) {}

  /** Load (or start) the table of `dataDir`. */
  static async open(dataDir: string, opts: { uidBase?: number; enforce?: boolean } = {}): Promise<AppUsers> {
    const file = join(dataDir, 'app-uids.json');
    const table = JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as {
      apps?: Record<string, number>;
      retired?: number[];
      uidBase?: number;
    };
    return new AppUsers(
      file,
      table.apps ?? {},
      table.retired ?? [],
      opts.uidBase ?? table.uidBase ?? defaultUidBase(dataDir),
      await hostIds(),
      (opts.enforce ?? true) && isRoot(),
    );
  }

  /** The app's uid/gid, allocated (and recorded) on first use. */
  async userFor(app: string): Promise<AppUser> {
    let uid = this.uids[app];
    if (uid === undefined) {
      const used = new Set([...Object.values(this.uids), ...this.retired]);
      uid = this.uidBase;
      while (used.has(uid) || this.taken.has(uid)) uid++;
      this.uids[app] = uid;
      this.save();
    }
    await this.writes;
    return { uid, gid: uid };
  }

  /** The app was destroyed: its uid is retired (an app created later with its name gets a new one). */
  async retire(app: string): Promise<void> {
    const uid = this.uids[app];
    if (uid === undefined) return;
    delete this.uids[app];
    this.retired.push(uid);
    this.save();
    await this.writes;
  }

  private save(): void {
    const text = JSON.stringify({ uidBase: this.uidBase, apps: this.uids, retired: this.retired });
    const tmp = `${this.file}.${randomBytes(4).toString('hex')}.tmp`;
    this.writes = this.writes.then(async () => {
      await writeFile(tmp, text, { mode: 0o600 });
      await rename(tmp, this.file);
    });
  }

  /** The app's user when uids are enforced, else undefined (everything runs as the platform's user). */
  async enforcedUserFor(app: string): Promise<AppUser | undefined> {
    const u = await this.userFor(app);
    return this.enforced ? u : undefined;
  }
}
