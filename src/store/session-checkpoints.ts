import type { IDBPDatabase } from 'idb';
import type { SandboxDB, SessionRecord } from './schema';

/** A busy session's record is rewritten with every this-many calls (bounds a rebuild's walk). */
export const SESSION_CHECKPOINT = 256;

/**
 * When a session's record is written, rather than with every call (docs/audit.md, "Session
 * records"). The record is what the session's limits count from after a stop: its call count
 * and last activity. Written with every call it was one more IndexedDB put a call, rewritten in
 * place; now it is written
 * - with the first request of a busy spell, flagged `unflushed` (calls after it may be missing
 *   from it), and again every SESSION_CHECKPOINT calls;
 * - when the log goes idle (AuditLog's checkpoint), complete, with the flag cleared.
 * Every record names the newest entry it accounts for (`countedThrough`, the seq of the request
 * that wrote it); a flagged record is completed from the log when read (`completeSession`). The
 * log is the truth: the record only saves reading it.
 *
 * Decisions are made at commit and take effect once the commit has landed (`committed`): an
 * aborted or re-chained batch changes nothing here.
 */
export class SessionCheckpoints {
  /** Sessions whose stored record this lifetime flagged, as last written. */
  private readonly flagged = new Map<string, SessionRecord>();
  /** The newest committed record of a flagged session, when newer than what was written. */
  private readonly behind = new Map<string, SessionRecord>();

  /** The record of the entry `seq` stamped, and whether it must be written with it. */
  atCommit(record: SessionRecord, seq: number): { record: SessionRecord; write: boolean } {
    const stamped: SessionRecord = { ...record, countedThrough: seq, unflushed: true };
    const written = this.flagged.get(record.id);
    return { record: stamped, write: written === undefined || record.callCount - written.callCount >= SESSION_CHECKPOINT };
  }

  /** After the batch's commit: what was written, and what was not. */
  committed(decisions: readonly { record: SessionRecord; write: boolean }[]): void {
    for (const { record, write } of decisions) {
      if (write) {
        this.flagged.set(record.id, record);
        this.behind.delete(record.id);
      } else if (this.flagged.has(record.id)) {
        this.behind.set(record.id, record);
      }
    }
  }

  /** Something to write when the log goes idle. */
  get due(): boolean {
    return this.flagged.size > 0;
  }

  /** The complete records to write now (the log is idle: every entry appended has committed). */
  complete(): SessionRecord[] {
    return [...this.flagged.values()].map((written) => ({ ...(this.behind.get(written.id) ?? written), unflushed: false }));
  }

  /** After those were written: each session no longer flagged, unless a later commit flagged it again. */
  completed(records: readonly SessionRecord[]): void {
    for (const record of records) {
      const now = this.behind.get(record.id) ?? this.flagged.get(record.id);
      if (now && (now.countedThrough ?? 0) > (record.countedThrough ?? 0)) continue;
      this.flagged.delete(record.id);
      this.behind.delete(record.id);
    }
  }

  /**
   * A session read back and completed from the log (a flagged record of an earlier lifetime):
   * its record is written complete at the next idle checkpoint.
   */
  adopt(record: SessionRecord): void {
    if (record.unflushed && !this.flagged.has(record.id)) this.flagged.set(record.id, record);
  }

  /** The session's record was written directly (opened, reset): nothing of it is held back. */
  forget(id: string): void {
    this.flagged.delete(id);
    this.behind.delete(id);
  }
}

/**
 * A stored record completed from the log: a flagged one (`unflushed`) may be missing the calls
 * after the entry it names; those are the session's entries after it, read newest first (the
 * `by-session` index keeps one session's entries in seq order), at most about SESSION_CHECKPOINT
 * calls' worth. A record not flagged is complete as it is.
 */
export async function completeSession(db: IDBPDatabase<SandboxDB>, stored: SessionRecord): Promise<SessionRecord> {
  if (!stored.unflushed) return stored;
  const through = stored.countedThrough ?? 0;
  let calls = 0;
  let lastActivityAt = stored.lastActivityAt;
  let newest = through;
  let cursor = await db.transaction('audit').store.index('by-session').openCursor(IDBKeyRange.only(stored.id), 'prev');
  while (cursor && cursor.primaryKey > through) {
    const entry = cursor.value;
    newest = Math.max(newest, entry.seq);
    // What `SessionStore.touch` counts: a tools/call's request (not a resource read's or a
    // prompt's), and as activity any request or refusal.
    if (entry.event === 'call.request' && entry.details?.['kind'] === 'call') calls++;
    if (entry.event === 'call.request' || entry.event === 'call.rejected') lastActivityAt = Math.max(lastActivityAt, entry.ts);
    cursor = await cursor.continue();
  }
  return { ...stored, callCount: stored.callCount + calls, lastActivityAt, countedThrough: newest };
}
