import { unwrap } from 'idb';
import type { DbHandle } from './db';
import type { AuditEntry, AuditEntryBody, CallSlotRecord, SealableField, SessionRecord } from './schema';
import { canonicalize, sha256Hex, type Canonical } from './hash';
import { isSealed, Sealer } from './sealing';
import { indexNewEntries, PendingWindow, SEARCH_WINDOW, writePendingWindow } from './search';
import { SessionCheckpoints } from './session-checkpoints';
import { AGGREGATE_CHECKPOINT, catchUpStored, foldCommitted, isCurrent, GLOBAL_KEY, readCaughtUp, type AggregateFold } from './aggregates';

/**
 * Longest a relaxed entry waits before its own commit starts, for a strict one to share it. A
 * call's next request usually arrives well within it; a reader never waits it out (`settled`).
 */
const RELAXED_HOLD_MS = 4;

/** prevHash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * What a caller appends. `seal` names the fields to encrypt at rest (when the agent's policy
 * requires it); a field that is null is left null, there being nothing in it to hide.
 */
export type AuditDraft = Omit<AuditEntryBody, 'seq' | 'prevHash' | 'canonical' | 'sealed' | 'ts' | 'sessionId' | 'agentId' | 'callId' | 'tool' | 'args' | 'durationMs' | 'memoryBytes' | 'error' | 'details'> &
  Partial<Pick<AuditEntryBody, 'ts' | 'sessionId' | 'agentId' | 'callId' | 'tool' | 'args' | 'durationMs' | 'memoryBytes' | 'error' | 'details'>> & { seal?: readonly SealableField[] };

/** What else must commit atomically with an entry: a call's write-ahead record, its session's record. */
export interface AuditSideEffect {
  /** The call's write-ahead record (open-calls.ts), written with its request entry. */
  openCall?: CallSlotRecord;
  /**
   * The session record as it stands after this entry (its counters come from the caller's
   * in-memory counts, which are assigned in the same order as entries are appended, so a blind
   * put never moves a count backwards).
   */
  putSession?: SessionRecord;
  /**
   * 'relaxed': the entry's commit need not reach the disk before `append` resolves (the next
   * strict commit takes it there). Only for entries whose loss in a power cut is already
   * accounted for: a call's result, whose open write-ahead record then makes recovery say
   * "outcome not recorded". A batch commits strictly if any entry in it asks to (the default).
   */
  durability?: 'relaxed';
}

/** An entry's content once sealed and cloned: everything but its place in the chain. */
type Content = Omit<AuditEntryBody, 'seq' | 'prevHash' | 'canonical' | 'ts'> & { ts: number | undefined };

interface Queued {
  /** Sealing and cloning, started on arrival so that a failure rejects this entry alone. */
  content: Promise<Content>;
  effect: AuditSideEffect | undefined;
  /** Called once the entry's transaction has its requests: any transaction opened later sees it. */
  onWritten: (() => void) | undefined;
  resolve: (entry: AuditEntry) => void;
  reject: (error: unknown) => void;
}

export interface Tail {
  seq: number;
  hash: string;
}

/**
 * The text an entry's hash covers: its fields but `hash`, in the canonical form it names (form 2,
 * or form 1 for an entry written before form 2 existed).
 */
function hashedText(body: Record<string, unknown>): Canonical {
  if (body['canonical'] === undefined) return canonicalize(body, 1);
  if (body['canonical'] === 2) return canonicalize(body, 2);
  return { ok: false, detail: 'it names a canonical form other than 2' };
}

/** The hash of an entry body. Rejects with a TypeError when the body has no canonical form. */
export async function hashEntry(body: AuditEntryBody): Promise<string> {
  const text = hashedText(body as unknown as Record<string, unknown>);
  if (!text.ok) throw new TypeError(`audit entry has no canonical form: ${text.detail}`);
  return sha256Hex(text.text);
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
 * - Sealing and hashing happen before the transaction opens: awaiting `crypto.subtle` inside one
 *   would let IndexedDB auto-commit it. Nothing but IndexedDB requests is awaited inside.
 * - The hash covers exactly what is stored: fields to seal are sealed first (the hash covers the
 *   ciphertext), then the entry is structured-cloned, as IndexedDB will clone it, and the clone
 *   is hashed (canonical form 2) and stored. A value with no canonical form (a Blob) or that
 *   cannot be cloned rejects its own entry, and only it.
 * - The search index (search.ts) is written after the entries, a window of them at a time
 *   (SEARCH_WINDOW entries behind, or idle), in transactions of its own that no call's commit
 *   waits for: from the postings this log gathered as it committed them, or, when another
 *   writer's entries came between, read back from the log. A search reads the entries the index
 *   does not reach yet from the log itself.
 * - The aggregates (aggregates.ts) are folded in the same transaction as the entries: a
 *   re-chained batch is folded again, an aborted one changes nothing. The fold of the last
 *   commit is kept and continued without reading while the cached tail holds.
 */
export class AuditLog {
  private queue: Queued[] = [];
  private flushing: Promise<void> | null = null;
  private tail: Tail | null = null;
  /** The aggregates as this log last committed them (through `tail`); null when not known. */
  private fold: AggregateFold | null = null;
  /** The `seq` the stored aggregates name (the last checkpoint this log wrote or read); valid with `fold`. */
  private storedSeq = 0;
  /** A checkpoint of the aggregates is due when the queue next drains (`checkpoint()`, or idle). */
  private checkpointDue = false;
  private idleTimer: ReturnType<typeof setTimeout> | null = null;
  /** Set while relaxed entries wait for company (RELAXED_HOLD_MS). */
  private holdTimer: ReturnType<typeof setTimeout> | null = null;
  /** How far the search index reached when this log last wrote it (0: not known yet). */
  private indexedThrough = 0;
  private indexing: Promise<void> | null = null;
  /** The postings of the entries this log committed since its last window (consecutive seqs). */
  private window: PendingWindow | null = null;
  /** Appends not yet committed or failed (what `drained` waits for). */
  private readonly inFlight = new Set<Promise<AuditEntry>>();
  private readonly committedListeners = new Set<(entries: readonly AuditEntry[]) => void>();
  private readonly failedListeners = new Set<(error: unknown) => void>();

  constructor(
    private readonly handle: DbHandle,
    private readonly clock: () => number = Date.now,
    private readonly sealer: Sealer = new Sealer(handle),
    /** When the sessions' records ride with a commit, and which wait for the log to go idle. */
    private readonly sessions: SessionCheckpoints = new SessionCheckpoints(),
  ) {}

  /**
   * Appends an entry; resolves once it has committed. `onWritten` is called earlier, once the
   * committing transaction has been given the entry: IndexedDB orders transactions, so any
   * reader that opens one after that sees the entry (or finds that the commit failed, which then
   * rejects this promise).
   */
  append(draft: AuditDraft, effect?: AuditSideEffect, onWritten?: () => void): Promise<AuditEntry> {
    const appended = this.appendOne(draft, effect, onWritten);
    this.inFlight.add(appended);
    const done = () => void this.inFlight.delete(appended);
    appended.then(done, done);
    return appended;
  }

  private appendOne(draft: AuditDraft, effect?: AuditSideEffect, onWritten?: () => void): Promise<AuditEntry> {
    return new Promise((resolve, reject) => {
      const content = this.contentOf(draft);
      // Rejections are delivered through `reject` when the batch is drained.
      content.catch(() => undefined);
      this.queue.push({ content, effect, onWritten, resolve, reject });
      if (this.flushing) return;
      // A relaxed entry (a call's result, after its reply) waits a moment for company: the next
      // call's request entry then carries it in its own transaction, one commit for both, and the
      // request does not queue behind a commit of the result alone.
      if (effect?.durability === 'relaxed') this.holdTimer ??= setTimeout(() => this.release(), RELAXED_HOLD_MS);
      else this.release();
    });
  }

  /** Starts committing what is queued, held relaxed entries included (a drain in progress takes them anyway). */
  private release(): void {
    if (this.holdTimer !== null) {
      clearTimeout(this.holdTimer);
      this.holdTimer = null;
    }
    if (!this.flushing && this.queue.length > 0) this.flushing = this.drain();
  }

  private async contentOf(draft: AuditDraft): Promise<Content> {
    const sealed: SealableField[] = [];
    const seal = async (field: SealableField, value: unknown): Promise<unknown> => {
      if (!draft.seal?.includes(field) || value === null) return value;
      sealed.push(field);
      return this.sealer.seal(value);
    };
    const args = await seal('args', draft.args ?? null);
    // A sealed `details` holds a Sealed, which is a record too (`sealed` says which it is).
    const details = (await seal('details', draft.details ?? null)) as Record<string, unknown> | null;
    const content: Content = structuredClone({
      ts: draft.ts,
      event: draft.event,
      sessionId: draft.sessionId ?? null,
      agentId: draft.agentId ?? null,
      callId: draft.callId ?? null,
      tool: draft.tool ?? null,
      args,
      outcome: draft.outcome,
      durationMs: draft.durationMs ?? null,
      memoryBytes: draft.memoryBytes ?? null,
      error: draft.error ?? null,
      details,
      ...(sealed.length ? { sealed } : {}),
      ...(typeof draft.replayOf === 'string' ? { replayOf: draft.replayOf } : {}),
    });
    const text = canonicalize(content);
    if (!text.ok) throw new TypeError(`audit entry has no canonical form: ${text.detail}`);
    return content;
  }

  /**
   * Calls `listener` with the entries of every commit of this log, after they are stored (what
   * open admin pages are told about, instead of asking every few seconds). Returns the unsubscribe.
   */
  onCommitted(listener: (entries: readonly AuditEntry[]) => void): () => void {
    this.committedListeners.add(listener);
    return () => this.committedListeners.delete(listener);
  }

  /** Calls `listener` with the error of every commit that failed (its entries' appends reject with it). */
  onCommitFailed(listener: (error: unknown) => void): () => void {
    this.failedListeners.add(listener);
    return () => this.failedListeners.delete(listener);
  }

  /**
   * Resolves once every entry appended so far has been committed or has failed: what a reader
   * of the store waits for to see entries whose writers did not wait (a call's result entry is
   * committed after its reply; see docs/audit.md).
   */
  async settled(): Promise<void> {
    this.release();
    while (this.flushing) await this.flushing;
  }

  /**
   * Resolves once every entry appended so far has been committed or has failed (not those appended
   * after), like `settled`, but without cutting short a relaxed entry's wait for company: what an event held open for its
   * call's result waits for (released at once, a result entry would commit alone, and the next
   * call's request entry queue behind it).
   */
  async drained(): Promise<void> {
    // The entries appended so far, not the log gone idle: under steady load it never is, and an
    // event waiting for that would be held open for as long as the load lasts.
    await Promise.allSettled([...this.inFlight]);
  }

  /**
   * Stores the aggregates folded in memory since the last checkpoint (done on its own every
   * AGGREGATE_CHECKPOINT entries, in the committing transaction, and a second after the log goes
   * idle), and the sessions' records held back (session-checkpoints.ts); resolves once they are
   * stored or found not to need it.
   */
  async checkpoint(): Promise<void> {
    this.checkpointDue = true;
    if (!this.flushing) this.flushing = this.drain();
    await this.settled();
  }

  /**
   * The aggregates through the newest entry: the fold this log keeps when it has one (no
   * IndexedDB at all), else the stored checkpoint caught up from the log. Entries being
   * committed at the moment may be included.
   */
  async aggregates(): Promise<AggregateFold> {
    return this.fold ?? readCaughtUp(this.handle);
  }

  /** The fold this log keeps in memory, or null when it keeps none: never reads anything. */
  heldAggregates(): AggregateFold | null {
    return this.fold;
  }

  private async drain(): Promise<void> {
    try {
      // Until nothing is queued and no checkpoint is due: entries appended while a checkpoint is
      // written are drained by this same loop (no other drain starts while this one runs).
      while (this.queue.length > 0 || this.checkpointDue) {
        if (this.queue.length === 0) {
          await this.storeAggregates();
          await this.storeSessions();
          continue;
        }
        const arrived = this.queue.splice(0);
        const settled = await Promise.allSettled(arrived.map((q) => q.content));
        const batch: { content: Content; queued: Queued }[] = [];
        settled.forEach((s, i) => (s.status === 'fulfilled' ? batch.push({ content: s.value, queued: arrived[i]! }) : arrived[i]!.reject(s.reason)));
        if (batch.length === 0) continue;
        try {
          const entries = await this.commit(batch);
          batch.forEach((b, i) => b.queued.resolve(entries[i]!));
          for (const listener of this.committedListeners) {
            try {
              listener(entries);
            } catch {
              // a listener's failure is its own; the log goes on
            }
          }
        } catch (error) {
          this.tail = null;
          this.fold = null;
          batch.forEach((b) => b.queued.reject(error));
          for (const listener of this.failedListeners) {
            try {
              listener(error);
            } catch {
              // as above
            }
          }
        }
      }
    } finally {
      this.flushing = null;
    }
    const unindexed = this.tail !== null && this.tail.seq > this.indexedThrough;
    if ((this.fold && this.fold.global.seq !== this.storedSeq) || unindexed || this.sessions.due) {
      if (this.idleTimer !== null) clearTimeout(this.idleTimer);
      this.idleTimer = setTimeout(() => {
        this.idleTimer = null;
        void this.checkpoint().catch(() => undefined);
        void this.indexSearch();
      }, 1_000);
    }
  }

  /**
   * Brings the search index up to the newest entry committed (search.ts, `indexNewEntries`),
   * starting a run unless one is going; never rejects (a failed run is retried by the next).
   */
  indexSearch(): Promise<void> {
    this.indexing ??= this.writeIndex()
      .then(
        (through) => {
          this.indexedThrough = through;
        },
        () => undefined,
      )
      .finally(() => {
        this.indexing = null;
      });
    return this.indexing;
  }

  /**
   * The gathered window, written as it is where it continues the index; where the index stops
   * short of it (entries of another writer, or of this log before it gathered), those are read
   * back from the log first, and only those: a writer that reads back all it wrote would fall
   * further behind the more it writes.
   */
  private async writeIndex(): Promise<number> {
    const window = this.window;
    this.window = null;
    if (window && window.last >= window.first) {
      const through = (await writePendingWindow(this.handle, window)) ?? ((await indexNewEntries(this.handle, window.first - 1)) >= window.first - 1 ? await writePendingWindow(this.handle, window) : null);
      if (through !== null) return through;
    }
    return indexNewEntries(this.handle);
  }

  /** Resolves once every entry appended so far is committed and in the search index (tests, and readers of the index itself). */
  async searchIndexed(): Promise<void> {
    await this.settled();
    await this.indexing;
    await this.indexSearch();
  }

  /**
   * Writes the sessions' records held back since their last write, complete (session-checkpoints.ts).
   * Runs between batches, when every entry appended has committed. A failure leaves them held
   * back, for the next checkpoint; their stored records stay flagged, and are completed from the
   * log when read.
   */
  private async storeSessions(): Promise<void> {
    if (!this.sessions.due) return;
    try {
      const db = await this.handle.get();
      // Taken and written in one step: a record written directly meanwhile (a session reset,
      // SessionStore.put) is either left out here or ordered after this transaction.
      const records = this.sessions.complete();
      const tx = db.transaction('sessions', 'readwrite');
      await Promise.all([...records.map((r) => tx.store.put(r)), tx.done]);
      this.sessions.completed(records);
    } catch {
      // kept for the next checkpoint
    }
  }

  /**
   * Writes the records changed since the last checkpoint, in a transaction of their own, if the
   * stored aggregates are still the ones this log last wrote or read (else another writer moved
   * them, and its own commits keep them). Runs between batches, never during one: the fold then
   * holds only committed entries. On any failure the fold is dropped, and the next commit starts
   * again from the store and the log.
   */
  private async storeAggregates(): Promise<void> {
    this.checkpointDue = false;
    const fold = this.fold;
    if (fold && fold.global.seq === this.storedSeq) return;
    try {
      const tx = (await this.handle.get()).transaction(['aggregates', 'audit'], 'readwrite');
      const store = tx.objectStore('aggregates');
      const stored = await store.get(GLOBAL_KEY);
      if (fold && isCurrent(stored) && stored.seq === this.storedSeq) {
        await Promise.all([...fold.takeChanged().map((r) => store.put(r)), tx.done]);
        this.storedSeq = fold.global.seq;
        return;
      }
      // Another writer (or a rebuild) moved the stored aggregates, or this log keeps none: they
      // are caught up from the log instead, and this log starts again from what it wrote.
      this.fold = null;
      const [caughtUp] = await Promise.all([catchUpStored(store, tx.objectStore('audit')), tx.done]);
      if (caughtUp && this.tail?.seq === caughtUp.global.seq) {
        this.fold = caughtUp;
        this.storedSeq = caughtUp.global.seq;
      }
    } catch {
      this.fold = null;
    }
  }

  private async commit(batch: { content: Content; queued: Queued }[]): Promise<AuditEntry[]> {
    const db = await this.handle.get();
    for (let attempt = 0; attempt < 5; attempt++) {
      const cached = this.tail;
      const tail = cached ?? (await readTail(db));
      const entries = await this.chain(batch.map((b) => b.content), tail);
      // Strict unless every entry allows relaxed: Chromium's default has been "relaxed" since
      // 121, which lets a power cut or an OS crash lose the newest entries; the write-ahead
      // record must survive both.
      // The aggregates are folded in memory and stored every AGGREGATE_CHECKPOINT entries (and
      // when idle): most batches leave that store out of their transaction altogether.
      const known = cached ? this.fold : null;
      const store = !known || known.global.seq !== tail.seq || entries[entries.length - 1]!.seq - this.storedSeq >= AGGREGATE_CHECKPOINT;
      // A strict commit waits for the disk (about an fsync); one of results alone need not, and
      // would otherwise hold the next call's request entry behind its own flush.
      const durability = batch.some((b) => b.queued.effect?.durability !== 'relaxed') ? 'strict' : 'relaxed';
      const tx = db.transaction(store ? ['audit', 'callSlots', 'sessions', 'aggregates'] : ['audit', 'callSlots', 'sessions'], 'readwrite', { durability });
      // The writes are plain requests with no handler of their own (idb would give each a
      // promise and two listeners, on the service worker's thread, on every call): a failed one
      // aborts the transaction, whose `done` rejects with its error.
      const raw = unwrap(tx);
      const audit = raw.objectStore('audit');
      const slots = raw.objectStore('callSlots');
      // A session's record as its newest entry in the batch leaves it (its counts are assigned in
      // append order, so the last is the newest), and written only when session-checkpoints.ts
      // says: with the first call of a busy spell and every SESSION_CHECKPOINT calls; the rest
      // when the log goes idle.
      const newestOfSession = new Map<string, number>();
      batch.forEach((b, i) => b.queued.effect?.putSession && newestOfSession.set(b.queued.effect.putSession.id, i));
      const sessions: { record: SessionRecord; write: boolean }[] = [];
      // Which request failed is read from the request (the transaction's error, when its `done`
      // rejects on the bubbling error event, is not set yet).
      let taken = false;
      const onAddError = (event: Event) => void (taken ||= (event.target as IDBRequest).error?.name === 'ConstraintError');
      for (let i = 0; i < batch.length; i++) {
        // `seq` is the key: if another writer took it, `add` fails and the batch is re-chained.
        audit.add(entries[i]!).onerror = onAddError;
        const effect = batch[i]!.queued.effect;
        if (effect?.openCall) slots.put(effect.openCall);
        if (effect?.putSession && newestOfSession.get(effect.putSession.id) === i) {
          const session = this.sessions.atCommit(effect.putSession, entries[i]!.seq);
          sessions.push(session);
          if (session.write) raw.objectStore('sessions').put(session.record);
        }
      }
      // The aggregates (per tool, per agent) change with the entries that change them, in this
      // transaction (aggregates.ts): folded on from the kept fold when the chain is still ours
      // (the `add`s above fail otherwise), or from the store read here.
      const folded = store ? foldCommitted(tx.objectStore('aggregates'), tx.objectStore('audit'), entries, known) : Promise.resolve(foldInMemory(known!, entries));
      this.fold = null;
      for (const b of batch) b.queued.onWritten?.();
      let fold: AggregateFold | null;
      try {
        // Must reject if any write rejects, and must not leave a write's rejection unhandled.
        [fold] = await Promise.all([folded, tx.done]);
      } catch (error) {
        if (!taken && (error as DOMException)?.name !== 'ConstraintError') throw error;
        await tx.done.catch(() => undefined);
        this.tail = await readTail(db);
        continue;
      }
      const head = entries[entries.length - 1]!;
      this.sessions.committed(sessions);
      this.tail = { seq: head.seq, hash: head.hash };
      this.fold = fold;
      if (store && fold) this.storedSeq = head.seq;
      // Their postings, gathered for the next window (tokenized here, as the entries are at hand);
      // a run broken by another writer's entries starts again (that window is read back instead).
      try {
        if (!this.window?.add(entries)) (this.window = new PendingWindow(entries[0]!.seq)).add(entries);
      } catch {
        this.window = null;
      }
      // A window of entries behind: the index catches up beside the calls (its own transactions).
      if (head.seq - this.indexedThrough >= SEARCH_WINDOW) void this.indexSearch();
      return entries;
    }
    throw new Error('audit: the chain tail kept moving; gave up after 5 attempts');
  }

  private async chain(contents: Content[], tail: Tail): Promise<AuditEntry[]> {
    const out: AuditEntry[] = [];
    let prev = tail;
    for (const { ts, sealed, ...content } of contents) {
      const body: AuditEntryBody = {
        seq: prev.seq + 1,
        ts: ts ?? this.clock(),
        ...content,
        ...(sealed ? { sealed } : {}),
        prevHash: prev.hash,
        canonical: 2,
      };
      const hash = await hashEntry(body);
      out.push({ ...body, hash });
      prev = { seq: body.seq, hash };
    }
    return out;
  }
}

/** Folds a batch into the kept fold without storing it; null (start again from the store) if it throws. */
function foldInMemory(fold: AggregateFold, entries: readonly AuditEntry[]): AggregateFold | null {
  try {
    for (const entry of entries) fold.fold(entry.seq, entry);
    return fold;
  } catch {
    return null;
  }
}

async function readTail(db: Awaited<ReturnType<DbHandle['get']>>): Promise<Tail> {
  const cursor = await db.transaction('audit').store.openCursor(null, 'prev');
  if (!cursor) return { seq: 0, hash: GENESIS_HASH };
  // The key is the seq. A newest record that is not an entry (tampered with) must not stop the
  // log: new entries chain on from its key, and verification reports the record itself.
  const hash = (cursor.value as { hash?: unknown } | null)?.hash;
  return { seq: cursor.key, hash: typeof hash === 'string' ? hash : '' };
}

export type ChainVerdict =
  | { ok: true; count: number; head: string; headSeq: number }
  | { ok: false; count: number; seq: number; reason: 'hash-mismatch' | 'broken-link' | 'gap' }
  /** The log ends before an entry a verifier saw earlier (its checkpoint): entries were removed from the end. */
  | { ok: false; count: number; seq: number; reason: 'truncated'; detail: string }
  /**
   * A record that is not an entry (not an object, no valid `seq`), or an entry with no
   * canonical form (so no hash can vouch for it). `seq` is its own, or where an entry was
   * expected when it has none. `detail` says what is wrong.
   */
  | { ok: false; count: number; seq: number; reason: 'malformed'; detail: string };

type WithoutCount<T> = T extends unknown ? Omit<T, 'count'> : never;
/** A broken entry, as checked on its own (the caller knows how many came before it). */
type Break = WithoutCount<Extract<ChainVerdict, { ok: false }>>;

/**
 * Walks the chain: every entry's hash must match its body, link to its predecessor, and
 * sequence numbers must have no gaps (a deleted entry in the middle shows as a gap and a
 * broken link). Truncating the newest entries is not detectable from the chain alone.
 *
 * Records are read from storage anyone with the origin can write, so they are taken as
 * `unknown`: whatever a record holds, the verdict names it as broken at its `seq`; this never
 * throws on a record.
 */
export async function verifyChain(records: AsyncIterable<unknown> | Iterable<unknown>, from: Tail = { seq: 0, hash: GENESIS_HASH }): Promise<ChainVerdict> {
  let prev: Tail = from;
  let count = 0;
  for await (const record of records) {
    const checked = await checkEntry(record, prev);
    if ('reason' in checked) return { ...checked, count };
    prev = checked;
    count++;
  }
  return { ok: true, count, head: prev.hash, headSeq: prev.seq };
}

/** The record's place in the chain if it is the intact entry following `prev`, or how it is broken. */
async function checkEntry(record: unknown, prev: Tail): Promise<Tail | Break> {
  const expected = prev.seq + 1;
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return { ok: false, seq: expected, reason: 'malformed', detail: `the record after #${prev.seq} is ${kindOf(record)}, not an entry` };
  const { hash, ...body } = record as Record<string, unknown>;
  const seq = body['seq'];
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return { ok: false, seq: expected, reason: 'malformed', detail: `the record after #${prev.seq} has no valid seq (${kindOf(seq)})` };
  if (seq !== expected) return { ok: false, seq, reason: 'gap' };
  if (body['prevHash'] !== prev.hash) return { ok: false, seq, reason: 'broken-link' };
  const text = hashedText(body);
  if (!text.ok) return { ok: false, seq, reason: 'malformed', detail: `entry #${seq} has no canonical form: ${text.detail}` };
  if (typeof hash !== 'string' || (await sha256Hex(text.text)) !== hash) return { ok: false, seq, reason: 'hash-mismatch' };
  return { seq, hash };
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** Entries in order (all, or those after `afterSeq`), read in one transaction; hashing happens after, outside it. */
export async function readAudit(handle: DbHandle, afterSeq = 0): Promise<AuditEntry[]> {
  const db = await handle.get();
  return afterSeq > 0 ? db.getAll('audit', IDBKeyRange.lowerBound(afterSeq, true)) : db.getAll('audit');
}

/** An entry for display: its sealed fields opened; `unopened` lists those that would not open (key gone, ciphertext changed). */
export type OpenedEntry = AuditEntry & { unopened?: SealableField[] };

/**
 * The entry with its sealed fields decrypted, for the person running the sandbox. `sealed`
 * stays, saying which fields are encrypted at rest. Never rejects: a field that does not open
 * keeps its sealed value and is listed in `unopened`.
 */
export async function openEntry(entry: AuditEntry, sealer: Sealer): Promise<OpenedEntry> {
  const opened: OpenedEntry = { ...entry };
  const unopened: SealableField[] = [];
  for (const field of entry.sealed ?? []) {
    const value = entry[field];
    if (!isSealed(value)) {
      unopened.push(field);
      continue;
    }
    try {
      const plain = await sealer.open(value);
      if (field === 'args') opened.args = plain;
      else opened.details = plain as Record<string, unknown> | null;
    } catch {
      unopened.push(field);
    }
  }
  return unopened.length ? { ...opened, unopened } : opened;
}

/**
 * The records as JSON Lines, one per record, in order; never throws. An entry that is JSON is
 * written as its canonical text (its JSON, keys sorted); sealed fields stay sealed, and each
 * entry's `sealed` names them. A record JSON cannot carry (a BigInt, NaN, undefined members) is
 * written as `{"seq", "problem", "canonical"}`: what is wrong, and its exact canonical text
 * (absent when it has none), so the line still says precisely what was stored.
 */
export function toJsonLines(records: readonly unknown[]): string {
  return records.map(jsonLine).join('\n') + (records.length ? '\n' : '');
}

function jsonLine(record: unknown): string {
  const text = canonicalize(record);
  if (text.ok && text.notJson === null) return text.text;
  const seq = (record as { seq?: unknown } | null)?.seq;
  return JSON.stringify({
    seq: typeof seq === 'number' && Number.isSafeInteger(seq) ? seq : null,
    problem: text.ok ? `not JSON: ${text.notJson}` : `no canonical form: ${text.detail}`,
    ...(text.ok ? { canonical: text.text } : {}),
  });
}
