import type { IDBPObjectStore } from 'idb';
import type { DbHandle } from './db';
import type { AuditEntry, AuditEvent, AuditOutcome, SandboxDB } from './schema';
import { indexOlderEntries, parseQuery, searchEntries, searchProgress } from './search';

export interface AuditFilter {
  agentId?: string;
  tool?: string;
  event?: AuditEvent;
  outcome?: AuditOutcome;
  /** Entries written at or after this time (ms since the epoch). */
  from?: number;
  /** Entries written before this time (exclusive). */
  to?: number;
  /**
   * Free text: entries whose tool, arguments, output or error hold every word (the last one as
   * typed matches as a prefix), answered from the search index (search.ts).
   */
  text?: string;
}

export interface AuditPage {
  /** Matching entries, newest first. */
  entries: AuditEntry[];
  /** Where the next (older) page starts: pass it as `beforeSeq`; null when the log has no more. */
  next: number | null;
  /**
   * With a `text` filter: the terms searched for, and the index's coverage: entries at or below
   * `pendingThrough` were stored before the index existed and are still being indexed (not found
   * yet). `broad`: the last word, as a prefix, begins too many words and was matched whole.
   */
  search?: { terms: string[]; prefix: string | null; pendingThrough: number; broad: boolean };
}

/** Most entries a page returns, and most records one request reads to find them. */
export const QUERY_PAGE_MAX = 500;
const SCAN_MAX = 5_000;

type AuditStore = IDBPObjectStore<SandboxDB, ArrayLike<'audit' | 'searchTerms'>, 'audit', 'readonly'>;

const finite = (v: number | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** Whether `entry` was written in `[from, to)` (either end may be absent). */
export function inTimeRange(entry: { ts: number }, from: number | undefined, to: number | undefined): boolean {
  return (!finite(from) || entry.ts >= from) && (!finite(to) || entry.ts < to);
}

/**
 * The seqs an entry written in `[from, to)` can have, as `[lo, hi]` (inclusive; lo > hi: none),
 * found by bisection on `seq` over the entries the store holds: O(log n) reads. Entries are
 * stamped in the order they are chained, so `ts` does not decrease along `seq`; should the clock
 * have stepped back, entries on the wrong side of such a step are not found (the exact bound is
 * still checked on every entry).
 */
export async function seqRangeForTime(store: AuditStore, from: number | undefined, to: number | undefined): Promise<[number, number]> {
  const [first, last] = await Promise.all([store.openKeyCursor(null, 'next'), store.openKeyCursor(null, 'prev')]);
  if (!first || !last) return [1, 0];
  let lo = first.key;
  let hi = last.key;
  // Newest seq whose entry was written before `to` (entries a prune left holes for read as
  // belonging below the bound: bisection then lands on the nearest held seq).
  if (finite(to)) {
    let a = lo - 1;
    let b = hi;
    while (a < b) {
      const mid = Math.ceil((a + b) / 2);
      const entry = await store.get(mid);
      if (!entry || entry.ts < to) a = mid;
      else b = mid - 1;
    }
    hi = a;
  }
  // Oldest seq whose entry was written at or after `from`.
  if (finite(from)) {
    let a = lo;
    let b = hi + 1;
    while (a < b) {
      const mid = Math.floor((a + b) / 2);
      const entry = await store.get(mid);
      if (entry && entry.ts >= from) b = mid;
      else a = mid + 1;
    }
    lo = a;
  }
  return [lo, hi];
}

/**
 * One page of the whole log, newest first, matching every field of `filter`, older than
 * `beforeSeq`. It walks an index when one fits (`by-tool-seq` for a tool, `by-agent-ts` for an
 * agent), else the log itself, on one short read transaction; a request reads at most SCAN_MAX
 * records, so a rare match costs several short requests (each says where to go on), never one
 * long one. A time range (`from`, `to`) bounds the walk: on `by-agent-ts` by time directly, on
 * the log and on `by-tool-seq` by the seqs bisection finds for it (`seqRangeForTime`).
 */
export async function queryAudit(handle: DbHandle, filter: AuditFilter, beforeSeq: number | null, limit = 200, scanMax = SCAN_MAX): Promise<AuditPage> {
  const n = Math.min(QUERY_PAGE_MAX, Math.max(1, Math.floor(limit) || 1));
  const before = beforeSeq ?? Number.MAX_SAFE_INTEGER;
  const { from, to } = filter;
  const timed = finite(from) || finite(to);
  const db = await handle.get();
  const matches = (e: AuditEntry) =>
    (!filter.agentId || e.agentId === filter.agentId) && (!filter.tool || e.tool === filter.tool) && (!filter.event || e.event === filter.event) && (!filter.outcome || e.outcome === filter.outcome) && inTimeRange(e, from, to);
  const query = parseQuery(filter.text ?? '');
  if (query.terms.length > 0 || query.prefix !== null) {
    // Free text: the posting lists of its terms, intersected, within the seqs the range covers;
    // every other filter is checked on the entries found. Entries stored before the index existed
    // are indexed in the background meanwhile (started here, a step at a time).
    const tx = db.transaction(['audit', 'searchTerms']);
    const [lo, hi] = timed ? await seqRangeForTime(tx.objectStore('audit'), from, to) : [1, Number.MAX_SAFE_INTEGER];
    const [found, pendingThrough] = await Promise.all([searchEntries(tx, query, lo, hi, before, n, scanMax, matches), searchProgress(db)]);
    await tx.done;
    if (pendingThrough > 0) void indexOlderEntries(handle).catch(() => undefined);
    return { entries: found.entries, next: found.next, search: { ...query, pendingThrough, broad: found.broad } };
  }
  const tx = db.transaction('audit');
  const entries: AuditEntry[] = [];
  let scanned = 0;
  let last: number | null = null;
  let cursor;
  if (filter.agentId) {
    // By time within the agent, from the time of the entry the last page ended at (entries of
    // the same millisecond after it are skipped below), within the range asked.
    const beforeTs = beforeSeq === null ? Infinity : ((await tx.store.get(beforeSeq))?.ts ?? Infinity);
    const upperOpen = finite(to) && to <= beforeTs;
    const upper = upperOpen ? to : beforeTs;
    const lower = finite(from) ? from : -Infinity;
    cursor = lower > upper || (lower === upper && upperOpen) ? null : await tx.store.index('by-agent-ts').openCursor(IDBKeyRange.bound([filter.agentId, lower], [filter.agentId, upper], false, upperOpen), 'prev');
  } else {
    const [lo, hi] = timed ? await seqRangeForTime(tx.store, from, to) : [-Infinity, Infinity];
    // Seqs below `top` (exclusive) and from `lo` on.
    const top = Math.min(before, hi + 1);
    if (lo >= top) cursor = null;
    else if (filter.tool) cursor = await tx.store.index('by-tool-seq').openCursor(IDBKeyRange.bound([filter.tool, lo], [filter.tool, top], false, true), 'prev');
    else cursor = await tx.store.openCursor(lo === -Infinity ? IDBKeyRange.upperBound(top, true) : IDBKeyRange.bound(lo, top, false, true), 'prev');
  }
  while (cursor && entries.length < n && scanned < scanMax) {
    const entry = cursor.value;
    scanned++;
    if (entry.seq < before) {
      last = entry.seq;
      if (matches(entry)) entries.push(entry);
    }
    cursor = await cursor.continue();
  }
  await tx.done;
  return { entries, next: cursor && last !== null ? last : null };
}
