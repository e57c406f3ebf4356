import type { IDBPDatabase } from 'idb';
import { CLOSING_EVENTS, type CallSlotRecord, type SandboxDB } from './schema';

/**
 * The calls still open: a write-ahead record in a slot (`callSlots`) and no closing entry in the
 * log. What recovery closes after a service-worker stop (server/recovery.ts) and what an archive
 * keeps (archive.ts).
 *
 * A call's record is written in its request entry's transaction and never deleted when it ends:
 * its closing entry says it ended, and the slot's next call overwrites the record. Chromium's
 * IndexedDB keeps a deleted key as a tombstone until it compacts, and a delete's seek steps over
 * the tombstones beside its key: with a delete a call, IndexedDB's delete went from 0.23 to 4.07 ms
 * over a soak of 30,000 calls in Chromium 156 (docs/audit.md). Overwriting a key costs the same at
 * any age.
 */

export interface OpenCall {
  record: CallSlotRecord;
  /** The seq of the call's first entry in the log (its request). */
  firstSeq: number;
}

/** The calls with a record in a slot and no closing entry, and the records of every lifetime (to clear the stale). */
export async function openCalls(db: IDBPDatabase<SandboxDB>): Promise<{ open: OpenCall[]; records: CallSlotRecord[] }> {
  const tx = db.transaction(['callSlots', 'audit']);
  const records = await tx.objectStore('callSlots').getAll();
  const byCall = tx.objectStore('audit').index('by-call');
  const entries = await Promise.all(records.map((r) => byCall.getAll(r.callId)));
  await tx.done;
  const open: OpenCall[] = [];
  records.forEach((record, i) => {
    const own = entries[i]!;
    // No entry left: the call was closed and its entries archived (an open call's never are, and
    // its record commits with its request entry), so a record outliving them is not an open call.
    if (own.length === 0 || own.some((e) => CLOSING_EVENTS.has(e.event))) return;
    open.push({ record, firstSeq: Math.min(...own.map((e) => e.seq)) });
  });
  return { open, records };
}
