import type { DbHandle } from './db';
import type { AuditEntry, AuditEntryBody, PendingCall, SessionRecord } from './schema';
import { canonicalJson, sha256Hex } from './hash';

/** prevHash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

export type AuditDraft = Omit<AuditEntryBody, 'seq' | 'prevHash' | 'ts' | 'sessionId' | 'agentId' | 'callId' | 'tool' | 'args' | 'durationMs' | 'memoryBytes' | 'error' | 'details'> &
  Partial<Pick<AuditEntryBody, 'ts' | 'sessionId' | 'agentId' | 'callId' | 'tool' | 'args' | 'durationMs' | 'memoryBytes' | 'error' | 'details'>>;

/** What else must commit atomically with an entry: opening or closing a write-ahead record. */
export interface AuditSideEffect {
  openPending?: PendingCall;
  closePending?: string;
  /**
   * The session record as it stands after this entry (its counters come from the caller's
   * in-memory counts, which are assigned in the same order as entries are appended, so a blind
   * put never moves a count backwards).
   */
  putSession?: SessionRecord;
}

interface Queued {
  draft: AuditDraft;
  effect: AuditSideEffect | undefined;
  resolve: (entry: AuditEntry) => void;
  reject: (error: unknown) => void;
}

export interface Tail {
  seq: number;
  hash: string;
}

export function hashEntry(body: AuditEntryBody): Promise<string> {
  return sha256Hex(canonicalJson(body));
}

/**
 * The append-only, hash-chained audit log.
 *
 * Invariants:
 * - `append` resolves only after the entry's transaction has committed (write-ahead).
 * - Entries of calls appended while a commit is in flight are group-committed together in
 *   the next transaction, in arrival order.
 * - The chain is extended optimistically from a cached tail. Entries are keyed by `seq`, so if
 *   another writer extended the chain first, our `add` of an existing key fails, the whole
 *   transaction aborts, and the batch is re-hashed on the real tail and retried. Entries are
 *   immutable, so a key that is free means our cached tail really is the last entry.
 * - Hashing happens before the transaction opens: awaiting `crypto.subtle` inside one would
 *   let IndexedDB auto-commit it. Nothing but IndexedDB requests is awaited inside.
 */
export class AuditLog {
  private queue: Queued[] = [];
  private flushing: Promise<void> | null = null;
  private tail: Tail | null = null;

  constructor(
    private readonly handle: DbHandle,
    private readonly clock: () => number = Date.now,
  ) {}

  append(draft: AuditDraft, effect?: AuditSideEffect): Promise<AuditEntry> {
    return new Promise((resolve, reject) => {
      this.queue.push({ draft, effect, resolve, reject });
      if (!this.flushing) this.flushing = this.drain();
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0);
        try {
          const entries = await this.commit(batch);
          batch.forEach((q, i) => q.resolve(entries[i]!));
        } catch (error) {
          this.tail = null;
          batch.forEach((q) => q.reject(error));
        }
      }
    } finally {
      this.flushing = null;
    }
  }

  private async commit(batch: Queued[]): Promise<AuditEntry[]> {
    const db = await this.handle.get();
    for (let attempt = 0; attempt < 5; attempt++) {
      const tail = this.tail ?? (await readTail(db));
      const entries = await this.chain(batch, tail);
      const tx = db.transaction(['audit', 'pending', 'sessions'], 'readwrite');
      const audit = tx.objectStore('audit');
      const pending = tx.objectStore('pending');
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < batch.length; i++) {
        // `seq` is the key: if another writer took it, `add` fails and the batch is re-chained.
        writes.push(audit.add(entries[i]!));
        const effect = batch[i]!.effect;
        if (effect?.openPending) writes.push(pending.put(effect.openPending));
        if (effect?.closePending) writes.push(pending.delete(effect.closePending));
        if (effect?.putSession) writes.push(tx.objectStore('sessions').put(effect.putSession));
      }
      try {
        // Must reject if any write rejects, and must not leave a write's rejection unhandled.
        await Promise.all([...writes, tx.done]);
      } catch (error) {
        if ((error as DOMException)?.name !== 'ConstraintError') throw error;
        await tx.done.catch(() => undefined);
        this.tail = await readTail(db);
        continue;
      }
      const head = entries[entries.length - 1]!;
      this.tail = { seq: head.seq, hash: head.hash };
      return entries;
    }
    throw new Error('audit: the chain tail kept moving; gave up after 5 attempts');
  }

  private async chain(batch: Queued[], tail: Tail): Promise<AuditEntry[]> {
    const out: AuditEntry[] = [];
    let prev = tail;
    for (const { draft } of batch) {
      const body: AuditEntryBody = {
        seq: prev.seq + 1,
        ts: draft.ts ?? this.clock(),
        event: draft.event,
        sessionId: draft.sessionId ?? null,
        agentId: draft.agentId ?? null,
        callId: draft.callId ?? null,
        tool: draft.tool ?? null,
        args: draft.args ?? null,
        outcome: draft.outcome,
        durationMs: draft.durationMs ?? null,
        memoryBytes: draft.memoryBytes ?? null,
        error: draft.error ?? null,
        details: draft.details ?? null,
        prevHash: prev.hash,
      };
      const hash = await hashEntry(body);
      out.push({ ...body, hash });
      prev = { seq: body.seq, hash };
    }
    return out;
  }
}

async function readTail(db: Awaited<ReturnType<DbHandle['get']>>): Promise<Tail> {
  const cursor = await db.transaction('audit').store.openCursor(null, 'prev');
  return cursor ? { seq: cursor.value.seq, hash: cursor.value.hash } : { seq: 0, hash: GENESIS_HASH };
}

export type ChainVerdict =
  | { ok: true; count: number; head: string; headSeq: number }
  | { ok: false; count: number; seq: number; reason: 'hash-mismatch' | 'broken-link' | 'gap' };

/**
 * Walks the whole chain: every entry's hash must match its body, link to its predecessor, and
 * sequence numbers must have no gaps (a deleted entry in the middle shows as a gap and a
 * broken link). Truncating the newest entries is not detectable from the chain alone.
 */
export async function verifyChain(entries: AsyncIterable<AuditEntry> | Iterable<AuditEntry>, from: Tail = { seq: 0, hash: GENESIS_HASH }): Promise<ChainVerdict> {
  let prev: Tail = from;
  let count = 0;
  for await (const entry of entries) {
    const { hash, ...body } = entry;
    if (body.seq !== prev.seq + 1) return { ok: false, count, seq: body.seq, reason: 'gap' };
    if (body.prevHash !== prev.hash) return { ok: false, count, seq: body.seq, reason: 'broken-link' };
    if ((await hashEntry(body)) !== hash) return { ok: false, count, seq: body.seq, reason: 'hash-mismatch' };
    prev = { seq: body.seq, hash };
    count++;
  }
  return { ok: true, count, head: prev.hash, headSeq: prev.seq };
}

/** Entries in order (all, or those after `afterSeq`), read in one transaction; hashing happens after, outside it. */
export async function readAudit(handle: DbHandle, afterSeq = 0): Promise<AuditEntry[]> {
  const db = await handle.get();
  return afterSeq > 0 ? db.getAll('audit', IDBKeyRange.lowerBound(afterSeq, true)) : db.getAll('audit');
}

/** The newest `limit` entries, oldest first. */
export async function readAuditTail(handle: DbHandle, limit: number): Promise<AuditEntry[]> {
  const db = await handle.get();
  const out: AuditEntry[] = [];
  for (let cursor = await db.transaction('audit').store.openCursor(null, 'prev'); cursor && out.length < limit; cursor = await cursor.continue()) out.push(cursor.value);
  return out.reverse();
}

export function toJsonLines(entries: readonly AuditEntry[]): string {
  return entries.map((e) => JSON.stringify(e)).join('\n') + (entries.length ? '\n' : '');
}
