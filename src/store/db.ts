import { openDB, type IDBPDatabase } from 'idb';
import { DB_NAME, type SandboxDB } from './schema';
import { DB_VERSION, MIGRATIONS } from './migrations';

export type Db = IDBPDatabase<SandboxDB>;

/**
 * Opens (and migrates) the one database. `version` exists for migration tests: opening at an
 * older version then at the current one must keep every record.
 */
export function openStore(name: string = DB_NAME, version: number = DB_VERSION, onGone?: () => void): Promise<Db> {
  return openDB<SandboxDB>(name, version, {
    upgrade(db, oldVersion, newVersion, tx) {
      for (let v = oldVersion; v < (newVersion ?? version); v++) MIGRATIONS[v]!(db, tx);
    },
    blocking(_current, _next, event) {
      // Another context wants a newer schema: let it upgrade; we reopen on next use.
      (event.target as IDBDatabase).close();
      onGone?.();
    },
    terminated() {
      onGone?.();
    },
  });
}

/**
 * A lazily (re)opened database handle. Contexts keep one of these, never a raw `Db`: a service
 * worker wakes with no globals, and a handle closed by an upgrade elsewhere must reopen.
 */
export class DbHandle {
  private pending: Promise<Db> | null = null;
  constructor(private readonly name: string = DB_NAME) {}

  get(): Promise<Db> {
    if (!this.pending) {
      this.pending = openStore(this.name, DB_VERSION, () => {
        this.pending = null;
      });
      this.pending.catch(() => {
        this.pending = null;
      });
    }
    return this.pending;
  }

  async close(): Promise<void> {
    const p = this.pending;
    this.pending = null;
    if (p) (await p).close();
  }
}
