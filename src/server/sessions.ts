import type { DbHandle } from '../store/db';
import type { SessionRecord } from '../store/schema';

/**
 * Sessions, kept in memory once read for this service-worker lifetime: only this service
 * worker writes them (here, and through the audit's `putSession`, which `remember`s what it
 * writes), so the copy is the stored record or newer. A woken service worker starts empty.
 */
export class SessionStore {
  private readonly known = new Map<string, SessionRecord>();

  constructor(private readonly handle: DbHandle) {}

  async get(id: string): Promise<SessionRecord | undefined> {
    const cached = this.known.get(id);
    if (cached) return cached;
    const stored = await (await this.handle.get()).get('sessions', id);
    if (stored && !this.known.has(id)) this.known.set(id, stored);
    return this.known.get(id) ?? stored;
  }

  async put(session: SessionRecord): Promise<void> {
    await (await this.handle.get()).put('sessions', session);
    this.known.set(session.id, session);
  }

  /** The record as it stands after an audit entry wrote it (see `AuditSideEffect.putSession`). */
  remember(session: SessionRecord): void {
    this.known.set(session.id, session);
  }
}
