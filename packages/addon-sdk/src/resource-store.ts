/**
 * The provider's record of what it provisioned, keyed by the platform's `uuid`, kept as a JSON
 * file in the provider's data dir (mode 0600: it holds credentials) so that a repeated
 * provision — Heroku delivers at least once — returns the same resource even after a restart.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One provisioned resource, config under the provider's declared names. */
export interface ResourceRecord {
  uuid: string;
  id: string;
  plan: string;
  app: string;
  /** Attachment name the resource was provisioned with (may be empty = the default prefix). */
  name: string;
  config: Record<string, string>;
  message?: string;
  createdAt: string;
}

/** A small persisted map uuid → record. Writes are serialised and atomic (write + rename). */
export class ResourceStore {
  private records = new Map<string, ResourceRecord>();
  private writing: Promise<void> = Promise.resolve();
  private readonly file: string;

  constructor(private readonly dir: string) {
    this.file = join(dir, 'resources.json');
  }

  /** Read the file if it exists. */
  async load(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    try {
      const list = JSON.parse(await readFile(this.file, 'utf8')) as ResourceRecord[];
      this.records = new Map(list.map((r) => [r.uuid, r]));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }

  /** Every record. */
  all(): ResourceRecord[] {
    return [...this.records.values()];
  }

  byUuid(uuid: string): ResourceRecord | undefined {
    return this.records.get(uuid);
  }

  byId(id: string): ResourceRecord | undefined {
    for (const r of this.records.values()) if (r.id === id) return r;
    return undefined;
  }

  async put(r: ResourceRecord): Promise<void> {
    this.records.set(r.uuid, r);
    await this.flush();
  }

  async remove(uuid: string): Promise<void> {
    this.records.delete(uuid);
    await this.flush();
  }

  private flush(): Promise<void> {
    const snapshot = JSON.stringify(this.all(), null, 2);
    this.writing = this.writing.then(async () => {
      const tmp = `${this.file}.${process.pid}.tmp`;
      await writeFile(tmp, snapshot, { mode: 0o600 });
      await rename(tmp, this.file);
    });
    return this.writing;
  }
}
