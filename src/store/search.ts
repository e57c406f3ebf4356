import { unwrap, type IDBPDatabase, type IDBPTransaction } from 'idb';
import type { DbHandle } from './db';
import type { AuditEntry, SandboxDB, SearchTermsRecord } from './schema';

/**
 * Free-text search over the audit log, answered from an inverted index kept beside it
 * (docs/audit.md, "Search").
 *
 * The `searchTerms` store holds one record per entry that has terms, `{ seq, terms }` with each
 * term as `[term, seq]`, whose multi-entry index `by-term` is the posting list of every term: for
 * a term, the seqs of the entries holding it, in order, reachable from any seq in one seek.
 * Records are written by `AuditLog.commit` in the transaction of the entries themselves (one
 * `put` per entry, no read), so the index never disagrees with the log: a batch that aborts
 * leaves neither. Entries stored before the index existed are
 * indexed afterwards in bounded steps (`indexOlderEntries`), newest first; record 0 says how far
 * that has come.
 *
 * What is indexed is the entry as stored: the tool's name, the error (code and message), the
 * arguments and the output (`details.output`), after the audit's redaction, and never a field
 * sealed at rest (its ciphertext has no words, and its plaintext must not leave the seal). So
 * the index holds nothing the audit itself did not keep in the clear.
 */

/** Changes with the tokenizer: a different one would need the index rebuilt. */
export const SEARCH_FORMAT = 1;
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
/** Entries a step of `indexOlderEntries` reads and indexes, each in short transactions of their own. */
export const BACKFILL_STEP = 500;
/** The key of the record saying how far the index of older entries has come. */
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

/** The record the index keeps for an entry, or null when it has no terms (nothing is written). */
export function searchRecordOf(entry: AuditEntry): SearchTermsRecord | null {
  const terms = entryTerms(entry);
  return terms.length ? { seq: entry.seq, terms: terms.map((t): [string, number] => [t, entry.seq]) } : null;
}

type SearchTx = IDBPTransaction<SandboxDB, ('audit' | 'searchTerms')[], 'readonly'>;

/** A list of seqs, walked newest first: `seq` is where it stands (null: no more), `seek` moves it to the newest ≤ target. */
interface Postings {
  seq: number | null;
  seek(target: number): Promise<void>;
}

/** Postings a backwards read of one term's list returns at once (where the browser reads backwards in bulk). */
const POSTINGS_CHUNK = 64;

/** `IDBIndex.getAllKeys` with the options form (direction, Chromium 141 on; not in this TypeScript's DOM types). */
type KeysBackwards = (options: { query: IDBKeyRange; count: number; direction: 'prev' }) => IDBRequest<IDBValidKey[]>;

/** The browser reads an index's keys backwards in bulk (`getAllKeys` with a direction): it has `getAllRecords`, shipped with it. */
function readsBackwards(index: IDBIndex): boolean {
  return typeof (index as unknown as { getAllRecords?: unknown }).getAllRecords === 'function';
}

/**
 * One term's postings, on the `by-term` index, whose keys are `[term, seq]`. A seek lands on the
 * newest posting at or below its target in one request: where the browser can, it reads the
 * next POSTINGS_CHUNK postings from there backwards at once (`getAllKeys`, direction `prev`),
 * so the seeks that follow within them cost nothing (a dense list walked step by step, as
 * intersecting two common words does, was one request a posting); elsewhere it opens a cursor
 * on `[term, lo] … [term, target]` backwards. (A backwards `continuePrimaryKey` on an index of
 * bare terms walks the postings it passes in Chromium, as far as measured here: searches at
 * 100,000 entries took 170–360 ms with it, 60–260 ms with the cursor seek.)
 */
class TermPostings implements Postings {
  seq: number | null = null;
  private done = false;
  /** Postings read ahead, newest first: every posting of the list from `buffer[0]` down to the last one is in it. */
  private buffer: number[] = [];
  /** The last bulk read returned fewer than asked: the list has nothing below `buffer`. */
  private exhausted = false;
  constructor(
    private readonly tx: SearchTx,
    private readonly term: string,
    private readonly lo: number,
    private readonly count: () => void,
  ) {}

  async seek(target: number): Promise<void> {
    // Targets only go down: a list found empty below one stays empty.
    if (this.done || target < Math.max(1, this.lo)) {
      this.seq = null;
      return;
    }
    let i = 0;
    while (i < this.buffer.length && this.buffer[i]! > target) i++;
    if (i > 0) this.buffer = this.buffer.slice(i);
    if (this.buffer.length > 0) {
      this.seq = this.buffer[0]!;
      return;
    }
    if (this.exhausted) {
      this.seq = null;
      this.done = true;
      return;
    }
    this.count();
    const range = IDBKeyRange.bound([this.term, this.lo], [this.term, target]);
    const index = unwrap(this.tx.objectStore('searchTerms').index('by-term'));
    if (readsBackwards(index)) {
      const seqs = (await requested((index.getAllKeys as unknown as KeysBackwards).call(index, { query: range, count: POSTINGS_CHUNK, direction: 'prev' }))) as number[];
      this.buffer = seqs;
      this.exhausted = seqs.length < POSTINGS_CHUNK;
      this.seq = seqs[0] ?? null;
    } else {
      const cursor = await this.tx.objectStore('searchTerms').index('by-term').openKeyCursor(range, 'prev');
      this.seq = cursor ? (cursor.key as [string, number])[1] : null;
    }
    this.done = this.seq === null;
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
    await Promise.all(this.members.filter((m) => m.seq === null ? true : m.seq > target).map((m) => m.seek(target)));
    let best: number | null = null;
    for (const m of this.members) if (m.seq !== null && (best === null || m.seq > best)) best = m.seq;
    this.seq = best;
  }
}

/** The words starting with `prefix` the index holds, at most `max` (then `more` says there are others). */
async function expand(tx: SearchTx, prefix: string, max: number, count: () => void): Promise<{ words: string[]; more: boolean }> {
  const words: string[] = [];
  const index = tx.objectStore('searchTerms').index('by-term');
  count();
  // Keys are [word, seq]: after a word's first key, the next word is found by jumping past all of
  // its seqs (a number never exceeds Infinity).
  let cursor = await index.openKeyCursor(IDBKeyRange.bound([prefix], [prefix + '\uffff']), 'next');
  while (cursor) {
    if (words.length === max) return { words, more: true };
    const word = (cursor.key as [string, number])[0];
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
}

/**
 * Entries holding every term of `query`, newest first, with seqs in `[lo, hi]` and below
 * `before`, that `keep` accepts (the other filters): at most `n`, reading at most `budget`
 * index positions and entries. The posting lists are intersected by leapfrogging: each list
 * jumps (a cursor opened at its bound) to the newest seq not above the others', so the work follows the
 * rarest term, not the log's length.
 */
export async function searchEntries(tx: SearchTx, query: ParsedQuery, lo: number, hi: number, before: number, n: number, budget: number, keep: (entry: AuditEntry) => boolean): Promise<TextSearchPage> {
  let used = 0;
  const count = () => void used++;
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
  /** Reads of the entries the index matched, issued at once (they overlap with the lists' next moves). */
  const found: Promise<AuditEntry | undefined>[] = [];
  /** Waits for the entries read and keeps those the filters accept. */
  const take = async () => {
    const read = await Promise.all(found.splice(0));
    // The entry is checked against the query too: the index vouches for nothing on its own
    // (and a prefix too broad to expand is checked here).
    for (const entry of read) if (entry && keep(entry) && (!verifyPrefix || matchesQuery(entryTerms(entry), query))) entries.push(entry);
  };
  let target = Math.min(before - 1, hi);
  if (lists.length === 0) return { entries, next: null, broad };
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
      return { entries, next: null, broad };
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
  return { entries, next: target >= lo && target >= 1 ? target + 1 : null, broad };
}

/** How far the index of entries stored before it existed has come: entries at or below `pendingThrough` are not indexed yet. */
export async function searchProgress(db: IDBPDatabase<SandboxDB>): Promise<number> {
  const progress = await db.get('searchTerms', PROGRESS_KEY);
  return progress?.pendingThrough ?? 0;
}

const backfills = new WeakMap<DbHandle, Promise<void>>();

/**
 * Indexes the entries stored before the index existed, newest first, BACKFILL_STEP at a time:
 * each step reads its entries on a read transaction of its own, then writes their records and
 * the progress in a short read-write one (calls commit between steps). Safe to run from several
 * contexts: a step whose progress record moved meanwhile is dropped. One run per handle at a time.
 */
export function indexOlderEntries(handle: DbHandle, step = BACKFILL_STEP): Promise<void> {
  const running = backfills.get(handle);
  if (running) return running;
  const run = (async () => {
    try {
      for (;;) {
        const db = await handle.get();
        const through = await searchProgress(db);
        if (through <= 0) return;
        const from = Math.max(1, through - step + 1);
        const entries = await db.getAll('audit', IDBKeyRange.bound(from, through));
        const records = entries.map(searchRecordOf).filter((r): r is SearchTermsRecord => r !== null);
        const tx = db.transaction('searchTerms', 'readwrite');
        const still = await tx.store.get(PROGRESS_KEY);
        if ((still?.pendingThrough ?? 0) !== through) {
          await tx.done;
          continue;
        }
        await Promise.all([...records.map((r) => tx.store.put(r)), tx.store.put({ seq: PROGRESS_KEY, pendingThrough: from - 1, format: SEARCH_FORMAT }), tx.done]);
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    } finally {
      backfills.delete(handle);
    }
  })();
  backfills.set(handle, run);
  return run;
}
