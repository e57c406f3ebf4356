import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/store/audit';
import { queryAudit, type AuditFilter } from '../../src/store/audit-query';
import { DbHandle, openStore } from '../../src/store/db';
import { DB_VERSION } from '../../src/store/migrations';
import type { AuditEntry } from '../../src/store/schema';
import { entryTerms, forgetThrough, indexNewEntries, indexOlderEntries, matchesQuery, parseQuery, PREFIX_EXPANSIONS_MAX, SEARCH_WINDOW, TERM_MAX, TERMS_PER_ENTRY, termsOf } from '../../src/store/search';
import { freshDbName } from './support/server-fixture';

// Free-text search of the audit log: the tokenizer, the index written with the entries, the
// query over it (every filter, paged, bounded), and the index built for a log stored before it.

/** The schema version before the search index (migrations.ts: v12 adds it). */
const BEFORE_SEARCH = 11;

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf'];

/** Entry i: tool x/y, agent a/b/c, args with two words, output with one, an error every 7th. */
function draft(i: number) {
  const tool = ['x_tool', 'y_tool'][i % 2]!;
  return {
    event: (i % 2 ? 'call.result' : 'call.request') as AuditEntry['event'],
    outcome: (i % 7 === 0 ? 'error' : 'ok') as AuditEntry['outcome'],
    agentId: ['a', 'b', 'c'][i % 3]!,
    tool,
    args: { text: `${WORDS[i % 7]} ${WORDS[(i * 3) % 5]} item${i}` },
    details: { output: `{"word":"${WORDS[(i + 2) % 4]}"}` },
    ...(i % 7 === 0 ? { error: { code: 'tool-error', message: `boom ${WORDS[i % 3]}` } as AuditEntry['error'] } : {}),
  };
}

/** A log of `count` entries; `indexed`: the search index brought up to its newest entry (else it lags, as between windows). */
async function logOf(count: number, clock?: () => number, indexed = true): Promise<{ handle: DbHandle; log: AuditLog }> {
  const handle = new DbHandle(freshDbName());
  let t = 1_000;
  const log = new AuditLog(handle, clock ?? (() => Math.floor(t++ / 3)));
  for (let i = 0; i < count; i += 250) await Promise.all(Array.from({ length: Math.min(250, count - i) }, (_, j) => log.append(draft(i + j + 1))));
  if (indexed) await log.searchIndexed();
  else await log.settled();
  return { handle, log };
}

/** What the index holds: for each seq, the terms whose postings name it. */
async function indexedTerms(handle: DbHandle): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  for (const block of await (await handle.get()).getAll('searchBlocks')) for (const seq of block.seqs) out.set(seq, [...(out.get(seq) ?? []), block.term]);
  return out;
}

async function all(handle: DbHandle, filter: AuditFilter, limit: number, scanMax?: number): Promise<{ seqs: number[]; pages: number }> {
  const seqs: number[] = [];
  let before: number | null = null;
  for (let pages = 1; pages < 10_000; pages++) {
    const page = await queryAudit(handle, filter, before, limit, scanMax);
    seqs.push(...page.entries.map((e) => e.seq));
    if (page.next === null) return { seqs, pages };
    expect(page.next).toBeLessThan(before ?? Infinity);
    before = page.next;
  }
  throw new Error('no end');
}

/** What a scan would answer: the entries whose terms satisfy the query and the other filters, newest first. */
function expected(entries: AuditEntry[], filter: AuditFilter): number[] {
  const q = parseQuery(filter.text ?? '');
  return entries
    .filter(
      (e) =>
        matchesQuery(entryTerms(e), q) &&
        (!filter.agentId || e.agentId === filter.agentId) &&
        (!filter.tool || e.tool === filter.tool) &&
        (!filter.event || e.event === filter.event) &&
        (!filter.outcome || e.outcome === filter.outcome) &&
        (filter.from === undefined || e.ts >= filter.from) &&
        (filter.to === undefined || e.ts < filter.to),
    )
    .map((e) => e.seq)
    .reverse();
}

describe('tokenizer', () => {
  it('lowercases, splits on anything not a letter or digit, drops one-character words and cuts long ones', () => {
    expect(termsOf('Hello, WORLD! a b2 x_y été 東京 42')).toEqual(['hello', 'world', 'b2', 'été', '東京', '42']);
    expect(termsOf('z'.repeat(100))).toEqual(['z'.repeat(TERM_MAX)]);
  });

  it('takes the tool, the error, the arguments and the output; never a sealed field; at most TERMS_PER_ENTRY distinct terms', () => {
    const entry: Parameters<typeof entryTerms>[0] = { tool: 'text_stats', error: { code: 'tool-error', message: 'Disk FULL' } as AuditEntry['error'], args: { text: 'Quick quick fox', n: 12, deep: [{ more: ['nested'] }] }, details: { output: 'answer forty', other: 'ignored' } };
    expect(entryTerms(entry)).toEqual(['text', 'stats', 'tool', 'error', 'disk', 'full', 'quick', 'fox', '12', 'nested', 'answer', 'forty']);
    expect(entryTerms({ ...entry, sealed: ['args', 'details'] })).toEqual(['text', 'stats', 'tool', 'error', 'disk', 'full']);
    const many = entryTerms({ tool: null, error: null, args: { text: Array.from({ length: 500 }, (_, i) => `w${i}`).join(' ') }, details: null });
    expect(many).toHaveLength(TERMS_PER_ENTRY);
    expect(many[0]).toBe('w0');
  });

  it('reads the last word as typed as a prefix, the others as whole words', () => {
    expect(parseQuery('Alpha bra')).toEqual({ terms: ['alpha'], prefix: 'bra' });
    expect(parseQuery('alpha bravo ')).toEqual({ terms: ['alpha', 'bravo'], prefix: null });
    expect(parseQuery('alpha b')).toEqual({ terms: ['alpha'], prefix: null });
    expect(parseQuery('  ')).toEqual({ terms: [], prefix: null });
  });
});

describe('the index, written with the entries', () => {
  it('holds each entry’s terms, a window of entries behind at most, and says how far it reaches', async () => {
    const { handle, log } = await logOf(SEARCH_WINDOW * 2 + 40, undefined, false);
    const db = await handle.get();
    const entries = (await db.getAll('audit')) as AuditEntry[];
    // Written beside the calls once a window is behind: not every entry yet, never one too many.
    const behind = (await db.get('searchWindows', 0))!;
    expect(behind.indexedThrough).toBeGreaterThanOrEqual(entries.length - SEARCH_WINDOW);
    await log.searchIndexed();
    const held = await indexedTerms(handle);
    for (const e of entries) expect(new Set(held.get(e.seq)), `#${e.seq}`).toEqual(new Set(entryTerms(e)));
    expect([...held.keys()].every((seq) => seq >= 1 && seq <= entries.length)).toBe(true);
    // A fresh database has nothing stored before the index: nothing is pending.
    expect(await db.get('searchWindows', 0)).toMatchObject({ indexedThrough: entries.length, pendingThrough: 0 });
  });

  it('writes a lone writer’s windows from what it committed, never reading the log back; two writers’ entries are read back', async () => {
    const name = freshDbName();
    const reads: string[] = [];
    const realGetAll = IDBObjectStore.prototype.getAll;
    IDBObjectStore.prototype.getAll = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['getAll']>) {
      reads.push(this.name);
      return realGetAll.apply(this, args);
    };
    try {
      const lone = new AuditLog(new DbHandle(name));
      for (let i = 0; i < 300; i += 25) await Promise.all(Array.from({ length: 25 }, (_, j) => lone.append(draft(i + j + 1))));
      await lone.searchIndexed();
      expect(reads.filter((store) => store === 'audit')).toEqual([]);
      // A second writer's entries come between: each log's gathered run is broken, and what the
      // index does not reach is read back from the log.
      const other = new AuditLog(new DbHandle(name));
      for (let i = 300; i < 700; i += 20) await Promise.all([lone.append(draft(i + 1)), other.append(draft(i + 2)), lone.append(draft(i + 3))]);
      await Promise.all([lone.searchIndexed(), other.searchIndexed()]);
      expect(reads.filter((store) => store === 'audit').length).toBeGreaterThan(0);
    } finally {
      IDBObjectStore.prototype.getAll = realGetAll;
    }
    const handle = new DbHandle(name);
    const db = await handle.get();
    const entries = (await db.getAll('audit')) as AuditEntry[];
    expect(entries.length).toBe(300 + 60);
    const held = await indexedTerms(handle);
    for (const e of entries) expect(held.get(e.seq), `#${e.seq}`).toEqual(expect.arrayContaining(entryTerms(e)));
    for (const e of entries) expect(held.get(e.seq)!.length, `#${e.seq} once`).toBe(entryTerms(e).length);
    expect(await db.get('searchWindows', 0)).toMatchObject({ indexedThrough: entries.length });
  });

  it('finds the entries it does not reach yet by reading them from the log, the same as indexed', async () => {
    const { handle, log } = await logOf(300, undefined, false);
    const db = await handle.get();
    const entries = (await db.getAll('audit')) as AuditEntry[];
    // Hold the index back: everything after #100 is read from the log.
    await db.put('searchWindows', { ...(await db.get('searchWindows', 0))!, indexedThrough: 100 });
    for (const block of await db.getAll('searchBlocks')) if (block.first > 100) await db.delete('searchBlocks', [block.term, block.first]);
    for (const text of ['alpha', 'charlie delta', 'item29', 'alpha gol', 'x_tool golf']) {
      const want = expected(entries, { text });
      for (const limit of [7, 500]) expect((await all(handle, { text }, limit)).seqs, `${text} ${limit}`).toEqual(want);
    }
    // A search brings the index up (no writer may be left to): then the same answers, from it.
    await indexNewEntries(handle);
    expect(await db.get('searchWindows', 0)).toMatchObject({ indexedThrough: 300 });
    const held = await indexedTerms(handle);
    for (const e of entries) expect(new Set(held.get(e.seq)), `#${e.seq}`).toEqual(new Set(entryTerms(e)));
    expect((await all(handle, { text: 'alpha gol' }, 7)).seqs).toEqual(expected(entries, { text: 'alpha gol' }));
    void log;
  });

  it('keeps a sealed field out of the index', async () => {
    const { handle, log } = await logOf(0);
    const entry = await log.append({ event: 'call.request', outcome: 'pending', tool: 'tee', args: { secret: 'platypus' }, seal: ['args'] });
    expect(entry.sealed).toEqual(['args']);
    await log.searchIndexed();
    expect((await indexedTerms(handle)).get(entry.seq)).toEqual(['tee']);
    expect((await queryAudit(handle, { text: 'platypus' }, null)).entries).toEqual([]);
  });
});

describe('an archive’s removal', () => {
  it('takes every posting at or below the archived seq out of the index, keeps those after it', async () => {
    const { handle } = await logOf(700);
    const db = await handle.get();
    const entries = (await db.getAll('audit')) as AuditEntry[];
    const windows = (await db.getAll('searchWindows')).filter((w) => w.first > 0);
    // A removal through a seq inside a window: the windows below go, the one across is cut.
    const through = windows[1]!.first + 17;
    expect(windows[1]!.last).toBeGreaterThan(through);
    const tx = db.transaction(['searchBlocks', 'searchWindows'], 'readwrite');
    await Promise.all([forgetThrough(tx.objectStore('searchBlocks'), tx.objectStore('searchWindows'), through), tx.done]);
    const held = await indexedTerms(handle);
    expect([...held.keys()].filter((seq) => seq <= through)).toEqual([]);
    for (const e of entries.filter((e) => e.seq > through)) expect(new Set(held.get(e.seq)), `#${e.seq}`).toEqual(new Set(entryTerms(e)));
    // Every block left is listed by its window (a later removal finds it), and none is empty.
    const left = await db.getAll('searchWindows');
    const listed = new Set(left.flatMap((w) => (w.terms ?? []).map((t) => `${t}@${w.first}`)));
    const blocks = await db.getAll('searchBlocks');
    expect(blocks.every((b) => b.seqs.length > 0 && listed.has(`${b.term}@${b.first}`))).toBe(true);
    expect(listed.size).toBe(blocks.length);
    expect(left.filter((w) => w.first > 0 && w.first <= windows[0]!.last!)).toEqual([]);
  });
});

describe('queryAudit with text', () => {
  it('answers exactly what a scan would, for every filter with text, paged newest first', { timeout: 60_000 }, async () => {
    const { handle } = await logOf(500);
    const entries = (await (await handle.get()).getAll('audit')) as AuditEntry[];
    const ts = (seq: number) => entries[seq - 1]!.ts;
    const texts = ['alpha', 'ALPHA bravo', 'charlie delta', 'boom', 'tool error echo', 'item4 ', 'item12', 'alpha gol', 'nothinglikethis', 'x_tool golf'];
    const filters: Omit<AuditFilter, 'text'>[] = [{}, { agentId: 'b' }, { tool: 'y_tool' }, { outcome: 'error' }, { event: 'call.result', agentId: 'a' }, { from: ts(120), to: ts(380) }, { agentId: 'c', from: ts(300) }];
    for (const text of texts) {
      for (const f of filters) {
        const filter = { ...f, text };
        const want = expected(entries, filter);
        for (const limit of [9, 500]) expect((await all(handle, filter, limit)).seqs, JSON.stringify({ filter, limit })).toEqual(want);
      }
    }
    // Words of the output and of the arguments both find an entry.
    expect(expected(entries, { text: 'item123' })).toEqual([123]);
    expect((await queryAudit(handle, { text: 'item123' }, null)).entries.map((e) => e.seq)).toEqual([123]);
    const out = (await queryAudit(handle, { text: 'delta' }, null, 500)).entries;
    expect(out.length).toBeGreaterThan(100);
    expect(out.every((e) => entryTerms(e).includes('delta'))).toBe(true);
  });

  it('does bounded work per request, following the rarest term, and says where to go on', async () => {
    const { handle } = await logOf(900);
    const entries = (await (await handle.get()).getAll('audit')) as AuditEntry[];
    // "alpha" is in one entry of 7, "tool" in every one: the intersection is walked by leaps.
    const want = expected(entries, { text: 'alpha tool' });
    const wide = await all(handle, { text: 'alpha tool' }, 500, 40);
    expect(wide.seqs).toEqual(want);
    // Each match needs its entry read: 40 reads a request cannot find them all at once.
    expect(want.length).toBeGreaterThan(120);
    expect(wide.pages).toBeGreaterThanOrEqual(Math.ceil(want.length / 40));
    const first = await queryAudit(handle, { text: 'alpha tool' }, null, 500, 40);
    expect(first.entries.length).toBeGreaterThan(0);
    expect(first.entries.length).toBeLessThan(40);
    expect(first.next).toBe(first.entries.at(-1)!.seq);
    // A rare term costs a few reads whatever the log's length: one request finds its only match.
    const rare = await queryAudit(handle, { text: 'item777 tool' }, null, 500, 12);
    expect(rare.entries.map((e) => e.seq)).toEqual([777]);
    expect(rare.next).toBeNull();
  });

  it('expands a prefix into the words it begins, or matches it whole when it begins too many', async () => {
    const { handle } = await logOf(300);
    const entries = (await (await handle.get()).getAll('audit')) as AuditEntry[];
    // "item" begins 300 words: alone, it is matched as a whole word (there is none) and said to be broad.
    const broad = await queryAudit(handle, { text: 'item' }, null, 500);
    expect(broad.search).toMatchObject({ prefix: 'item', broad: true });
    expect(broad.entries).toEqual([]);
    expect(300).toBeGreaterThan(PREFIX_EXPANSIONS_MAX);
    // With another word it is checked on each entry found instead: exact.
    const withWord = await all(handle, { text: 'echo item' }, 50);
    expect(withWord.seqs).toEqual(expected(entries, { text: 'echo item' }));
    expect(withWord.seqs.length).toBeGreaterThan(10);
    // "item29" begins item29 and item290…item299: expanded, exact.
    const some = await queryAudit(handle, { text: 'item29' }, null, 500);
    expect(some.search).toMatchObject({ broad: false });
    expect(some.entries.map((e) => e.seq)).toEqual([299, 298, 297, 296, 295, 294, 293, 292, 291, 290, 29]);
  });
});

describe('a log stored before the index existed', () => {
  it('is indexed after the upgrade in bounded steps, newest first; entries written since are found at once', { timeout: 30_000 }, async () => {
    const name = freshDbName();
    const old = await openStore(name, BEFORE_SEARCH);
    expect(old.objectStoreNames.contains('searchBlocks')).toBe(false);
    for (let seq = 1; seq <= 120; seq++) await old.add('audit', { ...draft(seq), seq, ts: 1_000 + seq, sessionId: null, callId: null, durationMs: null, memoryBytes: null, error: null, prevHash: '', hash: `h${seq}` } as AuditEntry);
    old.close();
    const handle = new DbHandle(name);
    const db = await handle.get();
    expect(db.version).toBe(DB_VERSION);
    expect(await db.get('searchWindows', 0)).toMatchObject({ pendingThrough: 120, indexedThrough: 120 });
    expect(await db.count('searchBlocks')).toBe(0);
    // Not indexed yet: not found, and the answer says how far the index reaches.
    const before = await queryAudit(handle, { text: 'item42' }, null);
    expect(before.search?.pendingThrough).toBeGreaterThan(0);
    // The query started the indexing; run (and await) it, in steps of 25.
    await indexOlderEntries(handle, 25);
    expect(await db.get('searchWindows', 0)).toMatchObject({ pendingThrough: 0 });
    const after = await queryAudit(handle, { text: 'item42' }, null);
    expect(after.entries.map((e) => e.seq)).toEqual([42]);
    expect(after.search?.pendingThrough).toBe(0);
    const held = await indexedTerms(handle);
    for (let seq = 1; seq <= 120; seq++) expect(new Set(held.get(seq)), `#${seq}`).toEqual(new Set(entryTerms((await db.get('audit', seq))!)));
  });

  it('stops a step when another context moved the progress, and finishes from where that one is', async () => {
    const name = freshDbName();
    const old = await openStore(name, BEFORE_SEARCH);
    expect(old.objectStoreNames.contains('searchBlocks')).toBe(false);
    for (let seq = 1; seq <= 60; seq++) await old.add('audit', { ...draft(seq), seq, ts: seq, sessionId: null, callId: null, durationMs: null, memoryBytes: null, error: null, prevHash: '', hash: `h${seq}` } as AuditEntry);
    old.close();
    const a = new DbHandle(name);
    const b = new DbHandle(name);
    await Promise.all([indexOlderEntries(a, 10), indexOlderEntries(b, 7)]);
    const db = await a.get();
    expect(await db.get('searchWindows', 0)).toMatchObject({ pendingThrough: 0 });
    // Every entry indexed once: no window written twice, none overlapping another.
    const held = await indexedTerms(a);
    for (let seq = 1; seq <= 60; seq++) expect(new Set(held.get(seq)), `#${seq}`).toEqual(new Set(entryTerms((await db.get('audit', seq))!)));
    expect([...held.values()].every((terms) => terms.length === new Set(terms).size)).toBe(true);
  });
});
