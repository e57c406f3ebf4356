import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/store/audit';
import { queryAudit, readTail, type AuditFilter } from '../../src/store/audit-query';
import { DbHandle } from '../../src/store/db';
import type { AuditEntry } from '../../src/store/schema';
import { entryTerms, matchesQuery, parseQuery } from '../../src/store/search';
import { freshDbName } from './support/server-fixture';

// The trail's bulk reads backwards (getAll / getAllKeys with `direction: 'prev'`, Chromium 141
// on): the same answers as the cursor walk they replace, page for page. They are given here from
// fake-indexeddb's own cursors, as the spec defines them, and counted (so the test sees they are
// used); with `getAllRecords` hidden, the code takes the cursor path it falls back to where a
// browser has no such reads, and answers the same.

type Reader = { getAll: (...a: unknown[]) => IDBRequest; getAllKeys: (...a: unknown[]) => IDBRequest; openCursor: (q: unknown, d: string) => IDBRequest; openKeyCursor: (q: unknown, d: string) => IDBRequest; getAllRecords?: unknown };
const protos = [IDBObjectStore.prototype, IDBIndex.prototype] as unknown as Reader[];
const saved = protos.map((p) => ({ getAll: p.getAll, getAllKeys: p.getAllKeys, getAllRecords: p.getAllRecords }));
let bulkReads = 0;

/** A request-like object answered with `count` records from a backwards cursor (values, or primary keys). */
function collect(cursorRequest: IDBRequest, count: number, take: (c: IDBCursorWithValue) => unknown): IDBRequest {
  const out: unknown[] = [];
  const request = { result: undefined as unknown, error: null as DOMException | null, onsuccess: null as (() => void) | null, onerror: null as (() => void) | null };
  cursorRequest.onsuccess = () => {
    const cursor = cursorRequest.result as IDBCursorWithValue | null;
    if (cursor && out.length < count) {
      out.push(take(cursor));
      cursor.continue();
      return;
    }
    request.result = out;
    request.onsuccess?.();
  };
  cursorRequest.onerror = () => {
    request.error = cursorRequest.error;
    request.onerror?.();
  };
  return request as unknown as IDBRequest;
}

const isOptions = (q: unknown): q is { query: IDBKeyRange; count: number; direction: string } => typeof q === 'object' && q !== null && !(q instanceof IDBKeyRange) && 'direction' in q;

beforeEach(() => {
  bulkReads = 0;
  install();
});
afterEach(restore);

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];

async function logOf(count: number): Promise<DbHandle> {
  const handle = new DbHandle(freshDbName());
  let t = 1_000;
  // Several entries share a millisecond, as they do under load (an agent's too: an agent's next
  // page starts within the millisecond its last one ended in).
  const log = new AuditLog(handle, () => Math.floor(t++ / 7));
  const append = (i: number) => {
    const tool = i % 5 === 0 ? null : ['x', 'y'][i % 2]!;
    return log.append({ event: tool ? 'call.result' : 'admin', outcome: i % 7 === 0 ? 'error' : tool ? 'ok' : 'info', agentId: ['a', 'b', 'c'][i % 3]!, tool, args: { text: `${WORDS[i % 5]} ${WORDS[(i * 3) % 4]} common` } });
  };
  for (let i = 0; i < count; i += 500) await Promise.all(Array.from({ length: Math.min(500, count - i) }, (_, j) => append(i + j)));
  return handle;
}

async function pages(handle: DbHandle, filter: AuditFilter, limit: number): Promise<{ seqs: number[]; nexts: (number | null)[] }> {
  const seqs: number[] = [];
  const nexts: (number | null)[] = [];
  let before: number | null = null;
  for (let n = 0; n < 1_000; n++) {
    const page = await queryAudit(handle, filter, before, limit);
    seqs.push(...page.entries.map((e) => e.seq));
    nexts.push(page.next);
    if (page.next === null) return { seqs, nexts };
    before = page.next;
  }
  throw new Error('no end');
}

const scan = (entries: AuditEntry[], f: AuditFilter) =>
  entries
    .filter((e) => (!f.agentId || e.agentId === f.agentId) && (!f.tool || e.tool === f.tool) && (!f.event || e.event === f.event) && (!f.outcome || e.outcome === f.outcome) && (f.from === undefined || e.ts >= f.from) && (f.to === undefined || e.ts < f.to) && (!f.text || matchesQuery(entryTerms(e), parseQuery(f.text))))
    .map((e) => e.seq)
    .reverse();

describe('bulk reads backwards', () => {
  it('answer every filter exactly as a scan, page for page, with the same `next` as the cursor walk', { timeout: 60_000 }, async () => {
    const handle = await logOf(900);
    const everything = (await (await handle.get()).getAll('audit')) as AuditEntry[];
    const t = (seq: number) => everything[seq - 1]!.ts;
    const filters: AuditFilter[] = [{}, { tool: 'x' }, { agentId: 'b' }, { agentId: 'b', from: t(200), to: t(700) }, { from: t(301) }, { tool: 'y', to: t(450) }, { outcome: 'error' }, { text: 'alpha bravo' }, { text: 'common' }, { text: 'delta ch', agentId: 'a' }, { tool: 'nope' }];
    for (const filter of filters) {
      for (const limit of [7, 200]) {
        const bulk = await pages(handle, filter, limit);
        expect(bulk.seqs, JSON.stringify({ filter, limit })).toEqual(scan(everything, filter));
        // The same pages as without the bulk reads (their `next` included).
        uninstall();
        const walked = await pages(handle, filter, limit);
        install();
        expect(bulk, JSON.stringify({ filter, limit })).toEqual(walked);
      }
    }
    expect(bulkReads).toBeGreaterThan(100);
  });

  it('reads the newest entries of the log in one request, whatever the limit', async () => {
    const handle = await logOf(300);
    const everything = (await (await handle.get()).getAll('audit')) as AuditEntry[];
    for (const limit of [1, 60, 299, 300, 1_000]) expect((await readTail(handle, limit)).map((e) => e.seq)).toEqual(everything.slice(-limit).map((e) => e.seq));
    expect(await readTail(new DbHandle(freshDbName()), 10)).toEqual([]);
  });

  it('reads the newest entries below a hole in the seqs too', async () => {
    const handle = await logOf(300);
    // An archive removes a prefix; a hole elsewhere is not expected, but still answered exactly.
    await (await handle.get()).delete('audit', IDBKeyRange.bound(120, 140));
    const held = ((await (await handle.get()).getAll('audit')) as AuditEntry[]).map((e) => e.seq);
    for (const limit of [100, 170, 200, 400]) expect((await readTail(handle, limit)).map((e) => e.seq)).toEqual(held.slice(-limit));
  });
});

/** Gives fake-indexeddb the bulk reads backwards, counted in `bulkReads`. */
function install(): void {
  protos.forEach((p, i) => {
    p.getAllRecords = saved[i]!.getAllRecords ?? (() => {
      throw new Error('not used');
    });
    p.getAll = function (this: Reader, q: unknown, ...rest: unknown[]) {
      if (!isOptions(q)) return saved[i]!.getAll.call(this, q, ...rest);
      bulkReads++;
      return collect(this.openCursor(q.query, q.direction), q.count, (c) => c.value);
    };
    p.getAllKeys = function (this: Reader, q: unknown, ...rest: unknown[]) {
      if (!isOptions(q)) return saved[i]!.getAllKeys.call(this, q, ...rest);
      bulkReads++;
      return collect(this.openKeyCursor(q.query, q.direction), q.count, (c) => c.primaryKey);
    };
  });
}

/** Takes them away again, `getAllRecords` hidden too (the cursor walk is what the code does then). */
function uninstall(): void {
  protos.forEach((p, i) => {
    p.getAllRecords = undefined;
    p.getAll = saved[i]!.getAll;
    p.getAllKeys = saved[i]!.getAllKeys;
  });
}

/** fake-indexeddb as it was. */
function restore(): void {
  protos.forEach((p, i) => Object.assign(p, saved[i]!));
}
