import type { DbHandle } from '../store/db';
import type { SessionRecord } from '../store/schema';
import { completeSession, type SessionCheckpoints } from '../store/session-checkpoints';

/**
 * Sessions, kept in memory once read for this service-worker lifetime: only this service
 * worker changes them (here, and through the audit's `putSession`, which carries what `touch`
 * made), so the copy is the stored record or newer. A woken service worker starts empty.
 *
 * A call does not rewrite its session's record: the audit writes it with the first call of a
 * busy spell, every SESSION_CHECKPOINT calls and when idle (store/session-checkpoints.ts), and
 * a record read back is completed from the log first, so the counts a session's limits use
 * survive a stop exactly.
 */
export class SessionStore {
  private readonly known = new Map<string, SessionRecord>();

  constructor(
    private readonly handle: DbHandle,
    private readonly checkpoints: SessionCheckpoints,
  ) {}

  async get(id: string): Promise<SessionRecord | undefined> {
    const cached = this.known.get(id);
    if (cached) return cached;
    const db = await this.handle.get();
    const stored = await db.get('sessions', id);
    return stored && this.adopt(await completeSession(db, stored));
  }

  /** Every session, as complete as `get` gives each. */
  async list(): Promise<SessionRecord[]> {
    const db = await this.handle.get();
    const stored = await db.getAll('sessions');
    return Promise.all(stored.map(async (s) => this.known.get(s.id) ?? (s.unflushed ? this.adopt(await completeSession(db, s)) : s)));
  }

  /** Writes a session's record as it is (opened, re-initialized, reset): complete, held back nowhere. */
  async put(session: SessionRecord): Promise<void> {
    const record: SessionRecord = { ...session, unflushed: false };
    this.checkpoints.forget(session.id);
    await (await this.handle.get()).put('sessions', record);
    this.known.set(session.id, record);
  }

  /**
   * The session after activity at `at` (a request entry, or a refusal), counting one call when
   * `call`: what the entry appended at this same moment carries (`AuditSideEffect.putSession`).
   * Counted from the newest copy, in append order, so the count a record carries is exactly
   * that of the requests up to its own entry.
   */
  touch(session: SessionRecord, at: number, call: boolean): SessionRecord {
    const base = this.known.get(session.id) ?? session;
    const next = { ...base, lastActivityAt: Math.max(base.lastActivityAt, at), callCount: base.callCount + (call ? 1 : 0) };
    this.known.set(session.id, next);
    return next;
  }

  private adopt(record: SessionRecord): SessionRecord {
    // Another read may have brought it in meanwhile (or a call touched it): the first one stays.
    const known = this.known.get(record.id);
    if (known) return known;
    this.known.set(record.id, record);
    this.checkpoints.adopt(record);
    return record;
  }
}
