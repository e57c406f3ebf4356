import { unwrap, type IDBPDatabase, type IDBPObjectStore, type IDBPTransaction, type StoreNames } from 'idb';
import type { DbHandle } from './db';
import type { AuditEntry, SandboxDB, SearchBlockRecord, SearchWindowRecord } from './schema';

/**
 * Free-text search over the audit log, answered from an inverted index kept beside it
 * (docs/audit.md, "Search").
 *
 * The index is written a window of the log at a time: the `searchBlocks` store holds, for each
 * term of the window's entries, one block `{ term, first, seqs }` (key `[term, first]`, `first`
 * the window's first seq): the seqs of the window's entries holding the term, ascending. Windows
 * never overlap, so a term's blocks in key order are its posting list, and a backwards read from
 * `[term, target]` lands on the newest postings at or below any seq. `searchWindows` lists each
 * window (what an archive's removal deletes) and, at key 0, how far the index reaches.
 *
 * Windows are written after the entries, never in a call's commit: `AuditLog` starts
 * `indexNewEntries` once SEARCH_WINDOW entries are behind (and when idle); it reads them back on a
 * read transaction, tokenizes them outside any, and writes their blocks with the progress in a
 * short transaction of stores no call commits to. A term repeated across a window costs one
 * record, not an index row an entry; a call's commit writes no search row at all. The entries
 * after the index's reach (`indexedThrough`, at most a window or two once writing keeps up) are
 * read from the log by a search and matched on their own terms, so a search finds an entry as
 * soon as it is committed. Entries stored before the index existed (`pendingThrough` and below)
 * are indexed afterwards, newest first, in bounded steps (`indexOlderEntries`).
 *
 * What is indexed is the entry as stored: the tool's name, the error (code and message), the
 * arguments and the output (`details.output`), after the audit's redaction, and never a field
 * sealed at rest (its ciphertext has no words, and its plaintext must not leave the seal). So
 * the index holds nothing the audit itself did not keep in the clear.
 */

/** Changes with the tokenizer or the layout: a different one needs the index rebuilt (2: postings in blocks a window). */
export const SEARCH_FORMAT = 2;
/** Entries committed since the index was last written that start writing it again (the idle log writes the rest). */
export const SEARCH_WINDOW = 128;
/** Distinct terms kept per entry, at most (the first met, in the order below). */
export const TERMS_PER_ENTRY = 64;
/** A longer word is indexed (and searched) by its first TERM_MAX characters. */
export const TERM_MAX = 32;
/** Shorter words are not indexed (nor searched for). */
export const TERM_MIN = 2;
/** Characters of each field read for terms, at most. */
const FIELD_CHARS = 4_096;
/** Query terms used, at most. */
export const QUERY_TERMS_MAX = 8;
/** Words a prefix (the query's last term, as typed) is expanded into, at most. */
export const PREFIX_EXPANSIONS_MAX = 32;
/** Entries one window of the index holds at most: what one step of indexing reads, and indexes in a short transaction. */
export const BACKFILL_STEP = 500;
/** The key (in `searchWindows`) of the record saying how far the index reaches. */
export const PROGRESS_KEY = 0;

const WORD = /[\p{L}\p{N}]+/gu;

/** Terms of a text, in order, lowercased, cut to TERM_MAX, without those under TERM_MIN. */
export function termsOf(text: string): string[] {
  const out: string[] = [];
  for (const match of text.slice(0, FIELD_CHARS).toLowerCase().matchAll(WORD)) {
    const word = match[0];
    if (word.length >= TERM_MIN) out.push(word.length > TERM_MAX ? word.slice(0, TERM_MAX) : word);
  }
  return out;
}

/** The text of a JSON-like value's leaves (strings, numbers, booleans), at most FIELD_CHARS, walked without recursion. */
function leafText(value: unknown): string {
  const parts: string[] = [];
  let length = 0;
  const stack: unknown[] = [value];
  let visited = 0;
  while (stack.length > 0 && length < FIELD_CHARS && visited++ < 10_000) {
    const v = stack.pop();
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
      const s = String(v);
      parts.push(s);
      length += s.length + 1;
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push(v[i]);
    } else if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      const values = Object.values(v as Record<string, unknown>);
      for (let i = values.length - 1; i >= 0; i--) stack.push(values[i]);
    }
  }
  return parts.join(' ');
}

/**
 * The terms an entry is found by: its tool, its error's code and message, its arguments and its
 * output, as stored (redacted; a sealed field is skipped), distinct, at most TERMS_PER_ENTRY.
 */
export function entryTerms(entry: Pick<AuditEntry, 'tool' | 'error' | 'args' | 'details' | 'sealed'>): string[] {
  const sealed = entry.sealed ?? [];
  const texts: string[] = [];
  if (typeof entry.tool === 'string') texts.push(entry.tool);
  if (entry.error && typeof entry.error === 'object') texts.push(`${String(entry.error.code ?? '')} ${typeof entry.error.message === 'string' ? entry.error.message : ''}`);
  if (!sealed.includes('args') && entry.args != null) texts.push(leafText(entry.args));
  const output = sealed.includes('details') ? undefined : (entry.details as { output?: unknown } | null)?.output;
  if (typeof output === 'string') texts.push(output);
  const terms = new Set<string>();
  for (const text of texts) {
    for (const term of termsOf(text)) {
      terms.add(term);
      if (terms.size >= TERMS_PER_ENTRY) return [...terms];
    }
  }
  return [...terms];
}

/** What a query asks: every one of `terms`, and a word starting with `prefix` when there is one. */
export interface ParsedQuery {
  terms: string[];
  prefix: string | null;
}

/**
 * A query's terms. The last word, when the text does not end with a space or punctuation (it is
 * still being typed), matches as a prefix; every other word must be a term of the entry.
 */
export function parseQuery(text: string): ParsedQuery {
  const words = termsOf(text);
  // The text ends inside a word long enough to be a term: that word is the last term.
  const lastWord = /[\p{L}\p{N}]+$/u.exec(text)?.[0] ?? '';
  const prefix = lastWord.length >= TERM_MIN && words.length > 0 ? words.pop()! : null;
  const terms = [...new Set(words)].filter((t) => t !== prefix).slice(0, QUERY_TERMS_MAX - (prefix ? 1 : 0));
  return { terms, prefix };
}

/** Whether an entry's terms satisfy a query (what the index answers, checked on the entry itself). */
export function matchesQuery(entryTermList: readonly string[], query: ParsedQuery): boolean {
  const set = new Set(entryTermList);
  return query.terms.every((t) => set.has(t)) && (query.prefix === null || entryTermList.some((t) => t.startsWith(query.prefix!)));
}


/**
 * The postings of entries (ascending seq): for each term, the seqs holding it, ascending. What
 * one window of the index writes, one record a term.
 */
export function postingsOf(entries: readonly AuditEntry[]): Map<string, number[]> {
  const postings = new Map<string, number[]>();
  for (const entry of entries) {
    for (const term of entryTerms(entry)) {
      const seqs = postings.get(term);
      if (seqs) seqs.push(entry.seq);
      else postings.set(term, [entry.seq]);
    }
  }
  return postings;
}

type IndexWriteTx = IDBPTransaction<SandboxDB, ('searchBlocks' | 'searchWindows')[], 'readwrite'>;

/** The requests writing one window, `first … last`, from its postings (term → seqs ascending). */
function putWindow(tx: IndexWriteTx, first: number, last: number, postings: ReadonlyMap<string, number[]>): Promise<unknown>[] {
  const blocks = tx.objectStore('searchBlocks');
  const writes: Promise<unknown>[] = [...postings].map(([term, seqs]) => blocks.put({ term, first, seqs }));
  if (postings.size > 0) writes.push(tx.objectStore('searchWindows').put({ first, last, terms: [...postings.keys()] }));
  return writes;
}

/** How far the index reaches: entries in `(pendingThrough, indexedThrough]` are in it. */
export interface SearchProgress {
  /** Entries after it are not in the index yet (the newest; a search reads them from the log). */
  indexedThrough: number;
  /** Entries at or below it were stored before this index existed and are still to be indexed. */
  pendingThrough: number;
}

function progressOf(record: SearchWindowRecord | undefined): SearchProgress {
  return { indexedThrough: record?.indexedThrough ?? 0, pendingThrough: record?.pendingThrough ?? 0 };
}

function progressRecord(progress: SearchProgress): SearchWindowRecord {
  return { first: PROGRESS_KEY, ...progress, format: SEARCH_FORMAT };
}

/** How far the index reaches. */
export async function searchProgress(db: IDBPDatabase<SandboxDB>): Promise<SearchProgress> {
  return progressOf(await db.get('searchWindows', PROGRESS_KEY));
}

const forward = new WeakMap<DbHandle, Promise<number>>();

/** One run per handle at a time: a call while one runs gets that run. */
function onePerHandle<T>(runs: WeakMap<DbHandle, Promise<T>>, handle: DbHandle, body: () => Promise<T>): Promise<T> {
  const running = runs.get(handle);
  if (running) return running;
  const run = body().finally(() => runs.delete(handle));
  runs.set(handle, run);
  return run;
}

/**
 * Indexes the entries committed since the index last reached (`indexedThrough`), oldest first,
 * up to BACKFILL_STEP a window: each read on a read transaction of its own, tokenized outside
 * any, then written with the progress in a short read-write one whose scope holds no store a
 * call commits to (so calls commit meanwhile). A window whose progress moved meanwhile (another
 * context indexed it) is dropped and the next is read from there. One run per handle at a time
 * (a call while one runs gets that run). Stops at `until` when given. Resolves with how far the
 * index then reaches.
 */
export function indexNewEntries(handle: DbHandle, until = Infinity): Promise<number> {
  return onePerHandle(forward, handle, async () => {
    for (;;) {
      const db = await handle.get();
      const read = db.transaction(['searchWindows', 'audit']);
      const [record, newest] = await Promise.all([read.objectStore('searchWindows').get(PROGRESS_KEY), read.objectStore('audit').openKeyCursor(null, 'prev')]);
      const progress = progressOf(record);
      const through = progress.indexedThrough;
      const top = Math.min(newest?.key ?? 0, until);
      if (top <= through) {
        await read.done;
        return through;
      }
      const last = Math.min(top, through + BACKFILL_STEP);
      const entries = await read.objectStore('audit').getAll(IDBKeyRange.bound(through + 1, last));
      await read.done;
      const tx = db.transaction(['searchBlocks', 'searchWindows'], 'readwrite');
      const still = progressOf(await tx.objectStore('searchWindows').get(PROGRESS_KEY));
      if (still.indexedThrough !== through) {
        await tx.done;
        continue;
      }
      await Promise.all([...putWindow(tx, through + 1, last, postingsOf(entries)), tx.objectStore('searchWindows').put(progressRecord({ ...still, indexedThrough: last })), tx.done]);
    }
  });
}

/**
 * The postings of a run of consecutive entries a writer committed itself (`first` … `last`),
 * gathered as it committed them: what it writes as the next window without reading them back.
 */
export class PendingWindow {
  readonly terms = new Map<string, number[]>();
  last: number;
  constructor(readonly first: number) {
    this.last = first - 1;
  }

  /** Adds entries that continue the run; false (nothing added) when they do not. */
  add(entries: readonly AuditEntry[]): boolean {
    if (entries[0]?.seq !== this.last + 1) return false;
    for (const [term, seqs] of postingsOf(entries)) {
      const held = this.terms.get(term);
      if (held) held.push(...seqs);
      else this.terms.set(term, seqs);
    }
    this.last = entries[entries.length - 1]!.seq;
    return true;
  }
}

/**
 * Writes a writer's gathered window if the index reaches exactly to where it starts (the usual
 * case: the writer is the log's only one); else leaves it, and the entries are indexed from the
 * log (`indexNewEntries`). Resolves with how far the index then reaches, or null when the window
 * was not written and the index does not cover it.
 */
export async function writePendingWindow(handle: DbHandle, window: PendingWindow): Promise<number | null> {
  const db = await handle.get();
  const tx = db.transaction(['searchBlocks', 'searchWindows'], 'readwrite');
  const progress = progressOf(await tx.objectStore('searchWindows').get(PROGRESS_KEY));
  if (progress.indexedThrough !== window.first - 1) {
    await tx.done;
    return progress.indexedThrough >= window.last ? progress.indexedThrough : null;
  }
  await Promise.all([...putWindow(tx, window.first, window.last, window.terms), tx.objectStore('searchWindows').put(progressRecord({ ...progress, indexedThrough: window.last })), tx.done]);
  return window.last;
}

const backfills = new WeakMap<DbHandle, Promise<void>>();

/**
 * Indexes the entries stored before the index existed (`pendingThrough` and below), newest
 * first, BACKFILL_STEP a window, as `indexNewEntries` does the newest. Safe to run from several
 * contexts: a step whose progress record moved meanwhile is dropped. One run per handle at a time.
 */
export function indexOlderEntries(handle: DbHandle, step = BACKFILL_STEP): Promise<void> {
  return onePerHandle(backfills, handle, async () => {
    for (;;) {
      const db = await handle.get();
      const through = (await searchProgress(db)).pendingThrough;
      if (through <= 0) return;
      const from = Math.max(1, through - step + 1);
      const entries = await db.getAll('audit', IDBKeyRange.bound(from, through));
      const tx = db.transaction(['searchBlocks', 'searchWindows'], 'readwrite');
      const still = progressOf(await tx.objectStore('searchWindows').get(PROGRESS_KEY));
      if (still.pendingThrough !== through) {
        await tx.done;
        continue;
      }
      await Promise.all([...putWindow(tx, from, through, postingsOf(entries)), tx.objectStore('searchWindows').put(progressRecord({ ...still, pendingThrough: from - 1 })), tx.done]);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  });
}

/**
 * Removes from the index the postings of entries at or below `through` (an archive removed them
 * from the log): windows wholly below go with their blocks (deletes, nothing read). A window
 * across `through` keeps its newer postings, cut only when `cut` says this is the removal's last
 * step (a window a removal's steps cross would otherwise be read and rewritten at every step).
 */
export async function forgetThrough<S extends ArrayLike<StoreNames<SandboxDB>>>(blocks: IDBPObjectStore<SandboxDB, S, 'searchBlocks', 'readwrite'>, windows: IDBPObjectStore<SandboxDB, S, 'searchWindows', 'readwrite'>, through: number, cut = true): Promise<void> {
  const writes: Promise<unknown>[] = [];
  for (const w of await windows.getAll(IDBKeyRange.bound(PROGRESS_KEY + 1, through))) {
    const terms = w.terms ?? [];
    if ((w.last ?? 0) <= through) {
      for (const term of terms) writes.push(blocks.delete([term, w.first]));
      writes.push(windows.delete(w.first));
      continue;
    }
    if (!cut) continue;
    const found = await Promise.all(terms.map((term) => blocks.get([term, w.first])));
    const kept: string[] = [];
    found.forEach((block, i) => {
      const term = terms[i]!;
      const seqs = block?.seqs.filter((s) => s > through) ?? [];
      if (seqs.length > 0) {
        kept.push(term);
        writes.push(blocks.put({ term, first: w.first, seqs }));
      } else writes.push(blocks.delete([term, w.first]));
    });
    writes.push(windows.put({ ...w, terms: kept }));
  }
  await Promise.all(writes);
}

type SearchTx = IDBPTransaction<SandboxDB, ('audit' | 'searchBlocks' | 'searchWindows')[], 'readonly'>;

/** A list of seqs, walked newest first: `seq` is where it stands (null: no more), `seek` moves it to the newest ≤ target. */
interface Postings {
  seq: number | null;
  seek(target: number): Promise<void>;
}

/** Blocks a backwards read of one term returns at once (where the browser reads backwards in bulk). */
const BLOCKS_CHUNK = 16;
/** Entries not in the index yet that one read of the log takes, newest first. */
const TAIL_CHUNK = 64;

/** `IDBObjectStore.getAll` with the options form (direction, Chromium 141 on; not in this TypeScript's DOM types). */
type GetAllBackwards = (options: { query: IDBKeyRange; count: number; direction: 'prev' }) => IDBRequest<SearchBlockRecord[]>;

/** The browser reads a store backwards in bulk (`getAll` with a direction): it has `getAllRecords`, shipped with it. */
function readsBackwards(store: IDBObjectStore): boolean {
  return typeof (store as unknown as { getAllRecords?: unknown }).getAllRecords === 'function';
}

/**
 * One term's postings, in its blocks (keys `[term, first]`, one a window of the log; windows
 * never overlap, so a block of an older window holds only older seqs). A seek to a target reads
 * the blocks of windows starting at or below it, newest first, BLOCKS_CHUNK at once (one
 * request; a window's block holds every posting of the term in up to BACKFILL_STEP entries), so
 * the seeks that follow within them cost nothing, and blocks above the target are leapt over.
 */
class TermPostings implements Postings {
  seq: number | null = null;
  /** Postings read, newest first, not yet passed: every posting of the term from `buffer[0]` down to `below` is in it. */
  private buffer: number[] = [];
  /** Blocks of windows starting below this are not read yet. */
  private below = Infinity;
  private exhausted = false;
  constructor(
    private readonly tx: SearchTx,
    private readonly term: string,
    private readonly lo: number,
    private readonly count: () => void,
  ) {}

  async seek(target: number): Promise<void> {
    // Targets only go down: postings above one are never wanted again.
    for (;;) {
      let i = 0;
      while (i < this.buffer.length && this.buffer[i]! > target) i++;
      if (i > 0) this.buffer = this.buffer.slice(i);
      if (this.buffer.length > 0 || this.exhausted || target < Math.max(1, this.lo)) {
        this.seq = this.buffer[0] ?? null;
        return;
      }
      await this.read(target);
    }
  }

  private async read(target: number): Promise<void> {
    this.count();
    // Windows starting at or below the target, and below those already read.
    const open = this.below <= target;
    const range = IDBKeyRange.bound([this.term, -Infinity], [this.term, open ? this.below : target], false, open);
    const store = unwrap(this.tx.objectStore('searchBlocks'));
    let blocks: SearchBlockRecord[];
    if (readsBackwards(store)) blocks = await requested((store.getAll as unknown as GetAllBackwards).call(store, { query: range, count: BLOCKS_CHUNK, direction: 'prev' }));
    else {
      blocks = [];
      for (let c = await this.tx.objectStore('searchBlocks').openCursor(range, 'prev'); c && blocks.length < BLOCKS_CHUNK; c = await c.continue()) blocks.push(c.value);
    }
    const seqs: number[] = [];
    for (const block of blocks) for (let j = block.seqs.length - 1; j >= 0; j--) if (block.seqs[j]! <= target && block.seqs[j]! >= this.lo) seqs.push(block.seqs[j]!);
    this.buffer = seqs;
    const oldest = blocks[blocks.length - 1];
    this.below = oldest ? oldest.first : -Infinity;
    // Nothing older: fewer blocks than asked, or the oldest read starts at or below `lo` (older windows end before it).
    this.exhausted = blocks.length < BLOCKS_CHUNK || oldest!.first <= this.lo;
  }
}

/** A request's result, as a promise. */
function requested<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** Entries holding any of several terms (a prefix's words): the newest of its members. */
class AnyPostings implements Postings {
  seq: number | null = null;
  constructor(private readonly members: TermPostings[]) {}
  async seek(target: number): Promise<void> {
    await Promise.all(this.members.filter((m) => (m.seq === null ? true : m.seq > target)).map((m) => m.seek(target)));
    let best: number | null = null;
    for (const m of this.members) if (m.seq !== null && (best === null || m.seq > best)) best = m.seq;
    this.seq = best;
  }
}

/** The words starting with `prefix` the index holds, at most `max` (then `more` says there are others). */
async function expand(tx: SearchTx, prefix: string, max: number, count: () => void): Promise<{ words: string[]; more: boolean }> {
  const words: string[] = [];
  count();
  // Keys are [word, first]: after a word's first key, the next word is found by jumping past all
  // of its blocks (a number never exceeds Infinity).
  let cursor = await tx.objectStore('searchBlocks').openKeyCursor(IDBKeyRange.bound([prefix], [prefix + '\uffff']), 'next');
  while (cursor) {
    if (words.length === max) return { words, more: true };
    const word = cursor.key[0];
    words.push(word);
    count();
    cursor = await cursor.continue([word, Infinity]);
  }
  return { words, more: false };
}

export interface TextSearchPage {
  entries: AuditEntry[];
  /** Continue below this seq (exclusive); null when nothing older can match. */
  next: number | null;
  /** The prefix matched more words than PREFIX_EXPANSIONS_MAX and, being the only word, was matched as a whole word. */
  broad: boolean;
  progress: SearchProgress;
}

/**
 * Entries holding every term of `query`, newest first, with seqs in `[lo, hi]` and below
 * `before`, that `keep` accepts (the other filters): at most `n`, making at most `budget` reads
 * of the index and the log. The newest entries, not in the index yet, are read from the log and
 * matched on their own terms; below them the posting lists are intersected by leapfrogging:
 * each list jumps to the newest seq not above the others', so the work follows the rarest term,
 * not the log's length.
 */
export async function searchEntries(tx: SearchTx, query: ParsedQuery, lo: number, hi: number, before: number, n: number, budget: number, keep: (entry: AuditEntry) => boolean): Promise<TextSearchPage> {
  let used = 0;
  const count = () => void used++;
  const progress = progressOf(await tx.objectStore('searchWindows').get(PROGRESS_KEY));
  const lists: Postings[] = query.terms.map((t) => new TermPostings(tx, t, lo, count));
  let verifyPrefix = false;
  let broad = false;
  if (query.prefix !== null) {
    const { words, more } = await expand(tx, query.prefix, PREFIX_EXPANSIONS_MAX, count);
    if (!more) lists.push(new AnyPostings(words.map((w) => new TermPostings(tx, w, lo, count))));
    else if (lists.length > 0) verifyPrefix = true;
    else {
      broad = true;
      lists.push(new TermPostings(tx, query.prefix, lo, count));
    }
  }
  const entries: AuditEntry[] = [];
  let target = Math.min(before - 1, hi);
  // The newest entries, committed since the index was last written: matched on their terms,
  // as the index would match them (a prefix too broad to expand, as a whole word).
  const asIndexed: ParsedQuery = broad ? { terms: [...query.terms, query.prefix!], prefix: null } : query;
  if (target > progress.indexedThrough) target = Math.min(target, (await tx.objectStore('audit').openKeyCursor(null, 'prev'))?.key ?? 0);
  while (target > progress.indexedThrough && target >= lo && entries.length < n && used < budget) {
    const from = Math.max(progress.indexedThrough + 1, lo, target - TAIL_CHUNK + 1);
    count();
    const read = await tx.objectStore('audit').getAll(IDBKeyRange.bound(from, target));
    target = from - 1;
    for (let i = read.length - 1; i >= 0; i--) {
      const entry = read[i]!;
      if (!keep(entry) || !matchesQuery(entryTerms(entry), asIndexed)) continue;
      entries.push(entry);
      if (entries.length === n) {
        target = entry.seq - 1;
        break;
      }
    }
  }
  if (target > progress.indexedThrough || entries.length >= n || used >= budget) return { entries, next: target >= lo && target >= 1 ? target + 1 : null, broad, progress };
  /** Reads of the entries the index matched, issued at once (they overlap with the lists' next moves). */
  const found: Promise<AuditEntry | undefined>[] = [];
  /** Waits for the entries read and keeps those the filters accept. */
  const take = async () => {
    const read = await Promise.all(found.splice(0));
    // The entry is checked against the query too: the index vouches for nothing on its own
    // (and a prefix too broad to expand is checked here).
    for (const entry of read) if (entry && keep(entry) && (!verifyPrefix || matchesQuery(entryTerms(entry), query))) entries.push(entry);
  };
  if (lists.length === 0) return { entries, next: null, broad, progress };
  while (target >= lo && entries.length < n && used < budget) {
    const t = target;
    await Promise.all(lists.filter((l) => l.seq === null || l.seq > t).map((l) => l.seek(t)));
    let low = Infinity;
    let high = -Infinity;
    for (const l of lists) {
      const s = l.seq ?? -Infinity;
      low = Math.min(low, s);
      high = Math.max(high, s);
    }
    if (low < lo || low === -Infinity) {
      await take();
      return { entries, next: null, broad, progress };
    }
    if (low !== high) {
      target = low;
      continue;
    }
    // A match of the index: its entry is read now, without waiting for it (the lists move on).
    count();
    found.push(tx.objectStore('audit').get(low));
    target = low - 1;
    if (found.length >= n - entries.length) await take();
  }
  await take();
  return { entries, next: target >= lo && target >= 1 ? target + 1 : null, broad, progress };
}
