import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { openDB } from 'idb';
import { AuditLog, GENESIS_HASH, readAudit, verifyChain } from '../../src/store/audit';
import { DbHandle, openStore } from '../../src/store/db';
import { DB_VERSION } from '../../src/store/migrations';
import { freshDbName } from './support/server-fixture';

describe('store migrations', () => {
  it('creates every store and index at the current version', async () => {
    const db = await openStore(freshDbName());
    expect(db.version).toBe(DB_VERSION);
    expect([...db.objectStoreNames].sort()).toEqual(['agents', 'aggregates', 'archives', 'audit', 'callSlots', 'contexts', 'fleet', 'folders', 'hosts', 'keys', 'searchBlocks', 'searchTerms', 'searchWindows', 'sessions', 'settings', 'signingKeys', 'toolFiles', 'tools', 'workspace']);
    expect([...db.transaction('audit').store.indexNames].sort()).toEqual(['by-agent-ts', 'by-call', 'by-session', 'by-tool-seq']);
    expect([...db.transaction('contexts').store.indexNames]).toEqual(['by-agent']);
    db.close();
  });

  it('keeps every record when a version-1 database is upgraded', async () => {
    const name = freshDbName();
    const v1 = await openStore(name, 1);
    expect([...v1.objectStoreNames].sort()).toEqual(['audit', 'pending', 'sessions', 'tools']);
    await v1.put('sessions', { id: 'old-session', agentId: 'a', origin: 'http://x', via: 'direct', protocolVersion: '2025-06-18', clientInfo: null, createdAt: 1, lastActivityAt: 2, callCount: 3 });
    const entry = { seq: 1, ts: 1, event: 'admin', sessionId: null, agentId: 'a', callId: null, tool: null, args: null, outcome: 'info', durationMs: null, memoryBytes: null, error: null, details: null, prevHash: GENESIS_HASH, hash: 'h' } as const;
    await v1.put('audit', entry);
    v1.close();
    const current = await openStore(name);
    expect(await current.get('sessions', 'old-session')).toMatchObject({ callCount: 3 });
    expect(await current.getAllFromIndex('audit', 'by-agent-ts', IDBKeyRange.bound(['a', -Infinity], ['a', Infinity]))).toHaveLength(1);
    await current.put('hosts', { clientId: 'c', announcedAt: 1 });
    current.close();
  });

  it('adds the sealing keys store at version 7 and keeps the workspace and audit of version 6', async () => {
    const name = freshDbName();
    const v6 = await openStore(name, 6);
    expect([...v6.objectStoreNames]).not.toContain('keys');
    await v6.put('workspace', { path: './workspace/a.txt', contents: 'kept', size: 4, modifiedMs: 1 });
    const entry = { seq: 1, ts: 1, event: 'admin', sessionId: null, agentId: null, callId: null, tool: null, args: null, outcome: 'info', durationMs: null, memoryBytes: null, error: null, details: null, prevHash: GENESIS_HASH, hash: 'h' } as const;
    await v6.put('audit', entry);
    v6.close();
    const current = await openStore(name);
    expect(current.version).toBe(DB_VERSION);
    expect(await current.get('workspace', './workspace/a.txt')).toMatchObject({ contents: 'kept' });
    expect(await current.get('audit', 1)).toEqual(entry);
    expect(await current.count('keys')).toBe(0);
    current.close();
  });

  it('moves the write-ahead records still open at version 14 into slots at version 15, and drops their store', async () => {
    const name = freshDbName();
    const v14 = await openStore(name, 14);
    const call = (callId: string) => ({ callId, incarnation: 'old-life', sessionId: 's', agentId: 'a', tool: 't', startedAt: 1 });
    await Promise.all([v14.put('pending', call('c1')), v14.put('pending', call('c2'))]);
    v14.close();
    const current = await openStore(name);
    expect([...current.objectStoreNames]).not.toContain('pending');
    expect(await current.getAll('callSlots')).toEqual([
      { ...call('c1'), slot: 0 },
      { ...call('c2'), slot: 1 },
    ]);
    current.close();
  });

  it('drops the by-agent index at version 16 and keeps every entry, each still found by agent and time', async () => {
    const name = freshDbName();
    const v15 = await openStore(name, 15);
    expect([...v15.transaction('audit').store.indexNames]).toContain('by-agent');
    const entry = (seq: number, agentId: string | null) => ({ seq, ts: seq * 10, event: 'admin', sessionId: null, agentId, callId: null, tool: null, args: null, outcome: 'info', durationMs: null, memoryBytes: null, error: null, details: null, prevHash: GENESIS_HASH, hash: `h${seq}` }) as const;
    await Promise.all([v15.put('audit', entry(1, 'a')), v15.put('audit', entry(2, 'b')), v15.put('audit', entry(3, 'a')), v15.put('audit', entry(4, null))]);
    v15.close();
    const current = await openStore(name);
    expect([...current.transaction('audit').store.indexNames]).not.toContain('by-agent');
    expect(await current.count('audit')).toBe(4);
    expect((await current.getAllFromIndex('audit', 'by-agent-ts', IDBKeyRange.bound(['a', -Infinity], ['a', Infinity]))).map((e) => e.seq)).toEqual([1, 3]);
    current.close();
  });

    it('refuses to open a database from a newer version rather than corrupt it', async () => {
    const name = freshDbName();
    (await openDB(name, DB_VERSION + 1)).close();
    await expect(openStore(name)).rejects.toMatchObject({ name: 'VersionError' });
  });
});

describe('the audit chain', () => {
  const draft = (i: number) => ({ event: 'admin' as const, outcome: 'info' as const, details: { i } });

  it('appends in order, links each entry to the previous hash, and verifies', async () => {
    const log = new AuditLog(new DbHandle(freshDbName()), () => 1000);
    const a = await log.append(draft(1));
    const b = await log.append(draft(2));
    expect(a).toMatchObject({ seq: 1, prevHash: GENESIS_HASH });
    expect(b).toMatchObject({ seq: 2, prevHash: a.hash });
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('group-commits concurrent appends into one unbroken chain', async () => {
    const handle = new DbHandle(freshDbName());
    const log = new AuditLog(handle);
    const entries = await Promise.all(Array.from({ length: 50 }, (_, i) => log.append(draft(i))));
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(await verifyChain(await readAudit(handle))).toEqual({ ok: true, count: 50, head: entries[49]!.hash, headSeq: 50 });
  });

  it('holds a relaxed entry for the next strict one, commits both in one transaction, and lets a reader have it at once', async () => {
    const handle = new DbHandle(freshDbName());
    const log = new AuditLog(handle);
    const batches: number[][] = [];
    log.onCommitted((entries) => batches.push(entries.map((e) => e.seq)));
    // A call's result after its reply, then the next call's request: one commit.
    const result = log.append(draft(1), { durability: 'relaxed' });
    const request = log.append(draft(2));
    await Promise.all([result, request]);
    expect(batches).toEqual([[1, 2]]);
    // A relaxed entry alone: a reader's settled() commits it now.
    const alone = log.append(draft(3), { durability: 'relaxed' });
    await log.settled();
    expect((await readAudit(handle)).map((e) => e.seq)).toEqual([1, 2, 3]);
    await alone;
    // With no reader and no company, it commits on its own shortly.
    const later = log.append(draft(4), { durability: 'relaxed' });
    expect((await later).seq).toBe(4);
    expect(batches).toEqual([[1, 2], [3], [4]]);
    expect(await verifyChain(await readAudit(handle))).toMatchObject({ ok: true, count: 4 });
  });

  it('lets a relaxed entry wait for company when drained, where settled commits it at once', async () => {
    const handle = new DbHandle(freshDbName());
    const log = new AuditLog(handle);
    const batches: number[][] = [];
    log.onCommitted((entries) => batches.push(entries.map((e) => e.seq)));
    // An event held open for its call's result (drained), and the next call's request a moment later: one commit.
    const result = log.append(draft(1), { durability: 'relaxed' });
    const held = log.drained();
    await new Promise((resolve) => setTimeout(resolve, 1));
    const request = log.append(draft(2));
    await Promise.all([held, result, request]);
    expect(batches).toEqual([[1, 2]]);
    // drained resolves only once the entry has committed, even when no company comes.
    const alone = log.append(draft(3), { durability: 'relaxed' });
    let done = false;
    void alone.then(() => (done = true));
    await log.drained();
    expect(done).toBe(true);
    expect((await readAudit(handle)).map((e) => e.seq)).toEqual([1, 2, 3]);
    // settled, in the same place, would have cut the wait: two commits.
    const again = log.append(draft(4), { durability: 'relaxed' });
    const cut = log.settled();
    await new Promise((resolve) => setTimeout(resolve, 1));
    await Promise.all([cut, again, log.append(draft(5))]);
    expect(batches.slice(2)).toEqual([[4], [5]]);
    // Entries appended after it are not waited for: under steady load, drained still resolves.
    const first = log.append(draft(6), { durability: 'relaxed' });
    const waited = log.drained().then(() => 'drained');
    let streaming = true;
    const stream = (async () => {
      for (let i = 0; streaming && i < 400; i++) await log.append(draft(100 + i));
      return 'stream ended';
    })();
    expect(await Promise.race([waited, stream])).toBe('drained');
    await first;
    streaming = false;
    await stream;
  });

  it('writes a session once per batch, as its newest entry leaves it', async () => {
    const handle = new DbHandle(freshDbName());
    const log = new AuditLog(handle);
    const session = (id: string, callCount: number) => ({ id, agentId: 'a', origin: 'http://x', via: 'direct' as const, protocolVersion: '2025-11-25', clientInfo: null, createdAt: 1, lastActivityAt: callCount, callCount });
    const db = await handle.get();
    const puts: number[] = [];
    const realPut = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      if (this.name === 'sessions') puts.push((value as { callCount: number }).callCount);
      return realPut.call(this, value, key);
    };
    try {
      // While a first entry commits, s1 three times and s2 once arrive: the next batch.
      const first = log.append(draft(0));
      await Promise.all([first, ...[1, 2, 3].map((n) => log.append(draft(n), { putSession: session('s1', n) })), log.append(draft(4), { putSession: session('s2', 7) })]);
    } finally {
      IDBObjectStore.prototype.put = realPut;
    }
    expect(puts.sort()).toEqual([3, 7]);
    expect((await db.get('sessions', 's1'))?.callCount).toBe(3);
    expect((await db.get('sessions', 's2'))?.callCount).toBe(7);
  });

  it('stays one chain when two writers append to the same database', async () => {
    const name = freshDbName();
    const one = new AuditLog(new DbHandle(name));
    const two = new AuditLog(new DbHandle(name));
    await one.append(draft(1));
    await two.append(draft(2)); // two's cached tail is empty; it must find entry 1
    await one.append(draft(3)); // one's cached tail is stale; it must find entry 2
    await Promise.all([one.append(draft(4)), two.append(draft(5)), one.append(draft(6))]);
    const all = await readAudit(new DbHandle(name));
    expect(all).toHaveLength(6);
    expect(await verifyChain(all)).toMatchObject({ ok: true, count: 6 });
  });

  it('verifies incrementally from a head checked before, and still catches a change after it', async () => {
    const handle = new DbHandle(freshDbName());
    const log = new AuditLog(handle);
    for (let i = 0; i < 3; i++) await log.append(draft(i));
    const first = await verifyChain(await readAudit(handle));
    if (!first.ok) throw new Error('chain should verify');
    for (let i = 3; i < 6; i++) await log.append(draft(i));
    const from = { seq: first.headSeq, hash: first.head };
    expect(await verifyChain(await readAudit(handle, from.seq), from)).toMatchObject({ ok: true, count: 3, headSeq: 6 });
    const db = await handle.get();
    await db.put('audit', { ...(await db.get('audit', 5))!, outcome: 'ok' });
    expect(await verifyChain(await readAudit(handle, from.seq), from)).toMatchObject({ ok: false, seq: 5, reason: 'hash-mismatch' });
    // A head that is not the real entry at that position does not link.
    expect(await verifyChain(await readAudit(handle, 3), { seq: 3, hash: 'f'.repeat(64) })).toMatchObject({ ok: false, seq: 4, reason: 'broken-link' });
  });

  it('detects an entry whose content was changed', async () => {
    const handle = new DbHandle(freshDbName());
    const log = new AuditLog(handle);
    for (let i = 0; i < 3; i++) await log.append(draft(i));
    const db = await handle.get();
    const second = (await db.get('audit', 2))!;
    await db.put('audit', { ...second, details: { i: 99 } });
    expect(await verifyChain(await readAudit(handle))).toEqual({ ok: false, count: 1, seq: 2, reason: 'hash-mismatch' });
  });

  it('detects a re-hashed entry by its broken link to the next one', async () => {
    const handle = new DbHandle(freshDbName());
    const log = new AuditLog(handle);
    for (let i = 0; i < 3; i++) await log.append(draft(i));
    const db = await handle.get();
    const { hash: _old, ...body } = (await db.get('audit', 2))!;
    const forged = { ...body, details: { i: 99 } };
    const { hashEntry } = await import('../../src/store/audit');
    await db.put('audit', { ...forged, hash: await hashEntry(forged) });
    expect(await verifyChain(await readAudit(handle))).toEqual({ ok: false, count: 2, seq: 3, reason: 'broken-link' });
  });

  it('detects a deleted entry as a gap', async () => {
    const handle = new DbHandle(freshDbName());
    const log = new AuditLog(handle);
    for (let i = 0; i < 4; i++) await log.append(draft(i));
    await (await handle.get()).delete('audit', 2);
    expect(await verifyChain(await readAudit(handle))).toEqual({ ok: false, count: 1, seq: 3, reason: 'gap' });
  });
});

/** A handle that records the durability of every read-write transaction opened on the log. */
class DurabilityHandle extends DbHandle {
  readonly seen: string[] = [];
  override get(): ReturnType<DbHandle['get']> {
    return super.get().then(
      (db) =>
        new Proxy(db, {
          get: (target, prop) => {
            const value: unknown = Reflect.get(target, prop, target);
            if (prop !== 'transaction' || typeof value !== 'function') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
            return (stores: unknown, mode?: string, options?: { durability?: string }) => {
              if (mode === 'readwrite' && [stores].flat().includes('audit')) this.seen.push(options?.durability ?? 'default');
              return (value as (...a: unknown[]) => unknown).call(target, stores, mode, options);
            };
          },
        }),
    );
  }
}

describe('audit durability', () => {
  it('commits strictly unless every entry of the batch allows relaxed (results); a strict entry makes its batch strict', async () => {
    const handle = new DurabilityHandle(freshDbName());
    const log = new AuditLog(handle);
    await log.append({ event: 'call.request', outcome: 'pending', callId: 'c1' });
    await log.append({ event: 'call.result', outcome: 'ok', callId: 'c1' }, { durability: 'relaxed' });
    await log.append({ event: 'admin', outcome: 'info' });
    expect(handle.seen).toEqual(['strict', 'relaxed', 'strict']);
    // Appended while a commit is in flight, these two go in one batch: strict because one is.
    await log.settled();
    handle.seen.length = 0;
    const relaxed = { durability: 'relaxed' } as const;
    await Promise.all([log.append({ event: 'admin', outcome: 'info' }), log.append({ event: 'call.result', outcome: 'ok', callId: 'c2' }, relaxed), log.append({ event: 'call.request', outcome: 'pending', callId: 'c3' })]);
    expect(handle.seen).toEqual(['strict', 'strict']);
    // Two results alone: relaxed.
    await log.settled();
    handle.seen.length = 0;
    await Promise.all([log.append({ event: 'admin', outcome: 'info' }), log.append({ event: 'call.result', outcome: 'ok', callId: 'c3' }, relaxed), log.append({ event: 'call.result', outcome: 'ok', callId: 'c4' }, relaxed)]);
    expect(handle.seen).toEqual(['strict', 'relaxed']);
    expect(await verifyChain(await readAudit(handle))).toMatchObject({ ok: true, count: 9 });
  });
});

describe('audit under load', () => {
  it('keeps the chain whole under many concurrent appends', async () => {
    const name = freshDbName();
    const log = new AuditLog(new DbHandle(name));
    await Promise.all(Array.from({ length: 300 }, (_, i) => (i % 7 === 0 ? new Promise((r) => setTimeout(r, i % 5)) : Promise.resolve()).then(() => log.append({ event: 'admin', outcome: 'info', details: { i } }, i % 2 ? { durability: 'relaxed' } : undefined))));
    const entries = await readAudit(new DbHandle(name));
    expect(entries).toHaveLength(300);
    expect(new Set(entries.map((e) => (e.details as { i: number }).i)).size).toBe(300);
    expect(await verifyChain(entries)).toMatchObject({ ok: true, count: 300 });
  });
});

