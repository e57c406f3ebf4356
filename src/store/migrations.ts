import { unwrap, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import type { SandboxDB } from './schema';

type UpgradeTx = IDBPTransaction<SandboxDB, StoreNames<SandboxDB>[], 'versionchange'>;
type Migration = (db: IDBPDatabase<SandboxDB>, tx: UpgradeTx) => void;

/**
 * Migrations, one per version, applied in order from the stored version up. Never edit a
 * shipped step: add a new one. Steps must be synchronous (idb upgrade transactions close on
 * any await of non-IDB work).
 */
export const MIGRATIONS: readonly Migration[] = [
  // v1: the foundation stores.
  (db) => {
    db.createObjectStore('tools', { keyPath: 'name' });
    db.createObjectStore('sessions', { keyPath: 'id' });
    const audit = db.createObjectStore('audit', { keyPath: 'seq' });
    audit.createIndex('by-session', 'sessionId');
    audit.createIndex('by-call', 'callId');
    db.createObjectStore('pending', { keyPath: 'callId' });
  },
  // v2: sandbox hosts survive a service-worker restart; audit can be read per agent.
  (db, tx) => {
    db.createObjectStore('hosts', { keyPath: 'clientId' });
    // (Removed again at v16: the typed schema no longer names it.)
    unwrap(tx.objectStore('audit')).createIndex('by-agent', 'agentId');
  },
  // v3: agents and settings; an agent's recent calls can be read by time (rate limits are
  // rebuilt from the audit after a restart).
  (db, tx) => {
    db.createObjectStore('agents', { keyPath: 'id' });
    db.createObjectStore('settings', { keyPath: 'key' });
    tx.objectStore('audit').createIndex('by-agent-ts', ['agentId', 'ts']);
  },
  // v4: the workspace files tools read and write through the file capability.
  (db) => {
    db.createObjectStore('workspace', { keyPath: 'path' });
  },
  // v5: uploaded tools' files; every tool record gains its version history and a pin.
  (db, tx) => {
    db.createObjectStore('toolFiles', { keyPath: 'key' }).createIndex('by-hash', 'hash');
    // Only IDB requests are awaited here, so the upgrade transaction stays open.
    void (async () => {
      let cursor = await tx.objectStore('tools').openCursor();
      while (cursor) {
        const t = cursor.value;
        if (!Array.isArray(t.versions)) await cursor.update({ ...t, versions: [{ version: t.version, hash: t.code.hash, size: t.code.size, at: t.registeredAt }], pinnedHash: t.pinnedHash ?? null });
        cursor = await cursor.continue();
      }
    })();
  },
  // v6: watched folders (their directory handles) whose components become discovered tools.
  (db) => {
    db.createObjectStore('folders', { keyPath: 'id' });
  },
  // v7: sealing keys (non-extractable CryptoKeys) for what policies require encrypted at rest.
  (db) => {
    db.createObjectStore('keys', { keyPath: 'id' });
  },
  // v8: aggregates of the audit log (per tool, per agent, global), updated in the transaction of
  // the entries that change them. A log written before is folded in by a rebuild on first use
  // (aggregates.ts), not here: an upgrade must stay short.
  (db) => {
    db.createObjectStore('aggregates', { keyPath: 'key' });
  },
  // v9: retention: checkpoints of audit entries archived to a file and removed, and the key that signs them.
  (db) => {
    db.createObjectStore('archives', { keyPath: 'through' });
    db.createObjectStore('signingKeys', { keyPath: 'id' });
  },
  // v10: the trail's query by tool, newest first, over the whole log (audit-query.ts). Entries
  // of no tool (a null key part) are not in it. Built here from the entries already stored.
  (_db, tx) => {
    tx.objectStore('audit').createIndex('by-tool-seq', ['tool', 'seq']);
  },
  // v11: fleet export (OpenTelemetry logs over OTLP/HTTP): its configuration, with the headers
  // sealed, and its progress (the last acknowledged seq), one record each (src/server/fleet-export.ts).
  (db) => {
    db.createObjectStore('fleet', { keyPath: 'key' });
  },
  // v12: free-text search of the audit log: each entry's terms, with the multi-entry index
  // `by-term` (src/store/search.ts), written with the entries from now on. The entries already
  // stored are indexed afterwards in bounded steps (`indexOlderEntries`), not here: an upgrade
  // must stay short; record 0 says where that starts (the newest entry now).
  (db, tx) => {
    db.createObjectStore('searchTerms', { keyPath: 'seq' }).createIndex('by-term', 'terms', { multiEntry: true });
    // Only IDB requests are awaited here, so the upgrade transaction stays open.
    void (async () => {
      const newest = await tx.objectStore('audit').openKeyCursor(null, 'prev');
      await tx.objectStore('searchTerms').put({ seq: 0, pendingThrough: newest ? newest.key : 0, format: 1 });
    })();
  },
  // v13: conversation contexts (src/server/contexts.ts): one record per conversation, session,
  // agent scope and the global scope, each holding its variables; `by-agent` lists an agent's.
  (db) => {
    db.createObjectStore('contexts', { keyPath: 'key' }).createIndex('by-agent', 'agentId');
  },
  // v14: the search index as postings in blocks, one record a term a window of the log
  // (src/store/search.ts), written after the entries rather than as index rows of every entry in
  // its own commit. Version 12's index is emptied (not deleted: version 12's step, in the same
  // upgrade of a fresh database, still writes its record 0 after these synchronous steps ran);
  // the entries already stored are indexed again in bounded steps (`indexOlderEntries`), and
  // entries from the newest now on as they come.
  (db, tx) => {
    db.createObjectStore('searchBlocks', { keyPath: ['term', 'first'] });
    db.createObjectStore('searchWindows', { keyPath: 'first' });
    // Only IDB requests are awaited here, so the upgrade transaction stays open. Placed after
    // version 12's read, this read answers after its write is placed: the clear comes after it.
    void (async () => {
      const newest = await tx.objectStore('audit').openKeyCursor(null, 'prev');
      const through = newest ? newest.key : 0;
      await Promise.all([tx.objectStore('searchTerms').clear(), tx.objectStore('searchWindows').put({ first: 0, indexedThrough: through, pendingThrough: through, format: 2 })]);
    })();
  },
  // v15: a call's write-ahead record in a slot of its service-worker lifetime (`callSlots`, key
  // `[incarnation, slot]`), overwritten by the slot's next call, instead of a record a call
  // deleted when its result commits: Chromium's IndexedDB keeps a delete as a tombstone until it
  // compacts, and each later delete stepped over them, so a call cost more the more calls came
  // before it (src/store/open-calls.ts). The records still open move into slots.
  (db, tx) => {
    db.createObjectStore('callSlots', { keyPath: ['incarnation', 'slot'] });
    void (async () => {
      const open = await tx.objectStore('pending').getAll();
      await Promise.all(open.map((call, slot) => tx.objectStore('callSlots').put({ ...call, slot })));
      db.deleteObjectStore('pending');
    })();
  },
  // v16: the audit's `by-agent` index goes: `by-agent-ts` ([agentId, ts]) answers every question
  // it did, and each index is one more write with every entry (two entries a call).
  (_db, tx) => {
    tx.objectStore('audit').deleteIndex('by-agent');
  },
];

export const DB_VERSION = MIGRATIONS.length;
