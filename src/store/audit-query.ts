import { unwrap, type IDBPObjectStore } from 'idb';
import type { DbHandle } from './db';
import type { AuditEntry, AuditEvent, AuditOutcome, SandboxDB } from './schema';
import { indexNewEntries, indexOlderEntries, parseQuery, searchEntries } from './search';

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

/** Records a bulk read of an agent's next page reads beyond the page, for the entries of the last page's millisecond it passes. */
const SAME_MS_SLACK = 32;
/** Most entries a page returns, and most records one request reads to find them. */
export const QUERY_PAGE_MAX = 500;
const SCAN_MAX = 5_000;

type AuditStore = IDBPObjectStore<SandboxDB, ArrayLike<'audit' | 'searchBlocks' | 'searchWindows'>, 'audit', 'readonly'>;

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
    const tx = db.transaction(['audit', 'searchBlocks', 'searchWindows']);
    const [lo, hi] = timed ? await seqRangeForTime(tx.objectStore('audit'), from, to) : [1, Number.MAX_SAFE_INTEGER];
    const found = await searchEntries(tx, query, lo, hi, before, n, scanMax, matches);
    await tx.done;
    const { pendingThrough } = found.progress;
    if (pendingThrough > 0) void indexOlderEntries(handle).catch(() => undefined);
    // The newest entries the index does not reach yet were read from the log: should no writer be
    // left to index them (a service worker stopped before its idle write), this reader does.
    void indexNewEntries(handle).catch(() => undefined);
    return { entries: found.entries, next: found.next, search: { ...query, pendingThrough, broad: found.broad } };
  }
  const tx = db.transaction('audit');
  const entries: AuditEntry[] = [];
  let scanned = 0;
  let last: number | null = null;
  /** What is walked, newest first: an index (or the log itself) over a range; null: nothing can match. */
  let walk: { index: 'by-agent-ts' | 'by-tool-seq' | null; range: IDBKeyRange } | null;
  if (filter.agentId) {
    // By time within the agent, from the time of the entry the last page ended at (entries of
    // the same millisecond after it are skipped below), within the range asked.
    const beforeTs = beforeSeq === null ? Infinity : ((await tx.store.get(beforeSeq))?.ts ?? Infinity);
    const upperOpen = finite(to) && to <= beforeTs;
    const upper = upperOpen ? to : beforeTs;
    const lower = finite(from) ? from : -Infinity;
    walk = lower > upper || (lower === upper && upperOpen) ? null : { index: 'by-agent-ts', range: IDBKeyRange.bound([filter.agentId, lower], [filter.agentId, upper], false, upperOpen) };
  } else {
    const [lo, hi] = timed ? await seqRangeForTime(tx.store, from, to) : [-Infinity, Infinity];
    // Seqs below `top` (exclusive) and from `lo` on.
    const top = Math.min(before, hi + 1);
    if (lo >= top) walk = null;
    else if (filter.tool) walk = { index: 'by-tool-seq', range: IDBKeyRange.bound([filter.tool, lo], [filter.tool, top], false, true) };
    else walk = { index: null, range: lo === -Infinity ? IDBKeyRange.upperBound(top, true) : IDBKeyRange.bound(lo, top, false, true) };
  }
  // Where the index (or the log) alone decides the match, one bulk read backwards answers the
  // page (n + 1 records: the one more says whether there are others) instead of a cursor step
  // per record; should a record read fail a filter (a time bound the seqs only approximate), the
  // cursor below answers instead.
  // On `by-agent-ts` after a page, the range starts at the millisecond the last page ended in:
  // its entries already shown come first (same key: newest seq first) and are read past.
  const indexDecides = !filter.event && !filter.outcome && !(filter.agentId && filter.tool);
  const count = n + 1 + (filter.agentId && beforeSeq !== null ? SAME_MS_SLACK : 0);
  if (walk && indexDecides && count <= scanMax) {
    const read = await newestOf(walk.index ? unwrap(tx.store.index(walk.index)) : unwrap(tx.store), walk.range, count);
    const bulk = read?.filter((e) => e.seq < before);
    if (read && bulk && (bulk.length > n || read.length < count) && bulk.every(matches)) {
      await tx.done;
      return { entries: bulk.slice(0, n), next: bulk.length > n ? bulk[n - 1]!.seq : null };
    }
  }
  let cursor = walk === null ? null : walk.index ? await tx.store.index(walk.index).openCursor(walk.range, 'prev') : await tx.store.openCursor(walk.range, 'prev');
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

/**
 * The newest `limit` entries, oldest first, in one `getAll` over the seqs they must have: seqs
 * are consecutive (an archive removes a prefix, nothing else), so the newest key says where they
 * start. Where that does not hold (a hole), the rest is read backwards with a cursor. The trail
 * opens on this (a cursor, as before, took a request per entry).
 */
export async function readTail(handle: DbHandle, limit: number): Promise<AuditEntry[]> {
  const n = Math.max(1, Math.floor(limit) || 1);
  const tx = (await handle.get()).transaction('audit');
  const newest = await tx.store.openKeyCursor(null, 'prev');
  if (!newest) return [];
  const top = newest.key;
  const entries = await tx.store.getAll(IDBKeyRange.bound(Math.max(1, top - n + 1), top));
  if (entries.length < n && entries[0] !== undefined && entries[0].seq > 1) {
    // Fewer than asked below a hole: the older ones one by one.
    const older: AuditEntry[] = [];
    for (let c = await tx.store.openCursor(IDBKeyRange.upperBound(entries[0].seq, true), 'prev'); c && older.length + entries.length < n; c = await c.continue()) older.push(c.value);
    entries.unshift(...older.reverse());
  }
  await tx.done;
  return entries;
}

/** `getAll` with the options form (direction; Chromium 141 on, shipped with `getAllRecords`; not in this TypeScript's DOM types). */
type GetAllBackwards = (options: { query: IDBKeyRange; count: number; direction: 'prev' }) => IDBRequest<AuditEntry[]>;

/** Up to `count` records of `source` in `range`, newest first, in one request; null where the browser cannot read backwards in bulk. */
function newestOf(source: IDBObjectStore | IDBIndex, range: IDBKeyRange, count: number): Promise<AuditEntry[]> | null {
  if (typeof (source as unknown as { getAllRecords?: unknown }).getAllRecords !== 'function') return null;
  const request = (source.getAll as unknown as GetAllBackwards).call(source, { query: range, count, direction: 'prev' });
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}
