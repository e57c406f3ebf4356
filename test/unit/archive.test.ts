import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { AuditLog, GENESIS_HASH, verifyChain } from '../../src/store/audit';
import { archiveRange, ArchiveError, chainStart, pruneArchived, throughBefore, verifyCheckpointSignature, writeArchive } from '../../src/store/archive';
import { DbHandle } from '../../src/store/db';
import { sha256Hex } from '../../src/store/hash';
import type { ArchiveCheckpoint } from '../../src/store/schema';
import { openCalls } from '../../src/store/open-calls';
import { freshDbName } from './support/server-fixture';

// Retention: the oldest entries go to a signed file and leave the browser; the chain still
// verifies from the checkpoint, and every way of abusing that is refused.

async function logOf(count: number): Promise<{ handle: DbHandle; log: AuditLog }> {
  const handle = new DbHandle(freshDbName());
  let t = 1_000;
  const log = new AuditLog(handle, () => t++);
  for (let i = 1; i <= count; i++) await log.append({ event: 'admin', outcome: 'info', details: { i } });
  return { handle, log };
}

async function archive(handle: DbHandle, through: number): Promise<{ text: string; checkpoint: ArchiveCheckpoint }> {
  let text = '';
  const checkpoint = await writeArchive(handle, through, (chunk) => void (text += chunk), 5_000);
  return { text, checkpoint };
}

async function verifyBrowserPart(handle: DbHandle) {
  const start = await chainStart(handle);
  const db = await handle.get();
  return { problem: start.problem, verdict: await verifyChain(await db.getAll('audit', IDBKeyRange.lowerBound(start.from.seq, true)), start.from) };
}

const code = (promise: Promise<unknown>) => promise.then(() => 'resolved', (e: unknown) => (e instanceof ArchiveError ? e.code : String(e)));

describe('archive file', () => {
  it('holds the entries in order, then a signed checkpoint naming the last hash and the file bytes', async () => {
    const { handle } = await logOf(2_500);
    const { text, checkpoint } = await archive(handle, 2_100);
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2_101);
    expect(lines.slice(0, -1).map((l) => l['seq'])).toEqual(Array.from({ length: 2_100 }, (_, i) => i + 1));
    const last = lines.at(-1)!['archive'] as ArchiveCheckpoint;
    expect(last).toEqual(checkpoint);
    expect(checkpoint).toMatchObject({ format: 1, firstSeq: 1, through: 2_100, hash: (lines[2_099] as { hash: string }).hash, previous: { through: 0, hash: GENESIS_HASH } });
    const body = text.slice(0, text.lastIndexOf('{"archive"'));
    expect(checkpoint.fileSha256).toBe(await sha256Hex(body));
    expect(await verifyCheckpointSignature(checkpoint)).toBe(true);
    // Any field changed breaks the signature.
    for (const changed of [{ through: 2_099 }, { hash: '0'.repeat(64) }, { fileSha256: 'f'.repeat(64) }, { firstSeq: 2 }, { createdAt: 1 }]) {
      expect(await verifyCheckpointSignature({ ...checkpoint, ...changed })).toBe(false);
    }
    // The file's own chain verifies from where it says it starts.
    expect(await verifyChain(lines.slice(0, -1), { seq: 0, hash: GENESIS_HASH })).toMatchObject({ ok: true, headSeq: 2_100, head: checkpoint.hash });
  });

  it('refuses what must stay: the newest entry, an open call, beyond the log, before its start', async () => {
    const { handle, log } = await logOf(20);
    expect(await code(archive(handle, 20))).toBe('archive-range');
    expect(await code(archive(handle, 0))).toBe('archive-range');
    expect(await code(archive(handle, 25))).toBe('archive-range');
    expect(await code(archive(handle, 1.5))).toBe('archive-range');
    // An open call (its request written with its write-ahead record, no closing entry) keeps its entries and every later one.
    await log.append({ event: 'call.request', outcome: 'pending', callId: 'open-call', agentId: 'a', tool: 't' }, { openCall: { slot: 0, callId: 'open-call', incarnation: 'x', sessionId: 's', agentId: 'a', tool: 't', startedAt: 1 } });
    for (let i = 0; i < 5; i++) await log.append({ event: 'admin', outcome: 'info' });
    expect((await archiveRange(handle)).maxThrough).toBe(20);
    expect(await code(archive(handle, 21))).toBe('archive-range');
    expect(await code(archive(handle, 20))).toBe('resolved');
    // Its closing entry ends it, though its record stays in its slot: it holds nothing back then.
    await log.append({ event: 'call.result', outcome: 'ok', callId: 'open-call', agentId: 'a', tool: 't' });
    const range = await archiveRange(handle);
    expect(range.maxThrough).toBe(range.newestSeq - 1);
    expect(await (await handle.get()).count('callSlots')).toBe(1);
    // Archived and removed, its entries are gone and its record is still there: it is not an open
    // call (recovery would otherwise record it as interrupted after it had a result).
    await log.append({ event: 'admin', outcome: 'info' });
    const { checkpoint } = await archive(handle, range.newestSeq);
    await pruneArchived(handle, checkpoint);
    expect(await (await handle.get()).getAllFromIndex('audit', 'by-call', 'open-call')).toEqual([]);
    expect(await (await handle.get()).count('callSlots')).toBe(1);
    expect((await openCalls(await handle.get())).open).toEqual([]);
  });

  it('will not archive a broken chain', async () => {
    const { handle } = await logOf(50);
    const db = await handle.get();
    const e = (await db.get('audit', 30))!;
    await db.put('audit', { ...e, details: { i: 'changed' } });
    expect(await code(archive(handle, 40))).toBe('archive-broken');
    expect(await code(archive(handle, 29))).toBe('resolved');
  });

  it('finds the newest entry before a time by bisection', async () => {
    const { handle } = await logOf(100);
    // ts of entry n is 1000 + n - 1 (one clock tick per entry).
    expect(await throughBefore(handle, 1_050)).toBe(50);
    expect(await throughBefore(handle, 1_000)).toBe(0);
    expect(await throughBefore(handle, 10_000)).toBe(99);
  });
});

describe('pruning the archived entries', () => {
  it('removes exactly what the checkpoint vouches for; the rest verifies from it; later archives chain on', async () => {
    const { handle, log } = await logOf(3_000);
    const { checkpoint } = await archive(handle, 2_500);
    expect(await pruneArchived(handle, checkpoint)).toEqual({ removed: 2_500, done: true });
    const db = await handle.get();
    expect(await db.count('audit')).toBe(500);
    expect((await db.getAllKeys('audit', null, 1))[0]).toBe(2_501);
    expect(await verifyBrowserPart(handle)).toMatchObject({ problem: null, verdict: { ok: true, count: 500, headSeq: 3_000 } });
    // Idempotent: the same checkpoint again removes nothing more.
    expect(await pruneArchived(handle, checkpoint)).toEqual({ removed: 0, done: true });
    // New entries chain on; a second archive starts where the first ended.
    for (let i = 0; i < 10; i++) await log.append({ event: 'admin', outcome: 'info' });
    const second = await archive(handle, 2_900);
    expect(second.checkpoint).toMatchObject({ firstSeq: 2_501, previous: { through: 2_500, hash: checkpoint.hash } });
    expect(JSON.parse(second.text.split('\n')[0]!)).toMatchObject({ seq: 2_501 });
    await pruneArchived(handle, second.checkpoint);
    expect(await verifyBrowserPart(handle)).toMatchObject({ problem: null, verdict: { ok: true, count: 110, headSeq: 3_010 } });
    // The old checkpoint is stale now.
    expect(await code(pruneArchived(handle, { ...checkpoint }))).toBe('resolved'); // already kept: nothing left to remove
    expect(await archiveRange(handle)).toMatchObject({ firstSeq: 2_901 });
  });

  it('within a budget removes a step at a time and says it is not done; asked again, finishes exactly', async () => {
    const { handle } = await logOf(3_200);
    const { checkpoint } = await archive(handle, 2_500);
    const db = await handle.get();
    // A spent budget stops after one step (ARCHIVE_STEP entries), the oldest first.
    expect(await pruneArchived(handle, checkpoint, async () => {}, 0)).toEqual({ removed: 1_000, done: false });
    expect((await db.getAllKeys('audit', null, 1))[0]).toBe(1_001);
    expect(await verifyBrowserPart(handle)).toMatchObject({ problem: null, verdict: { ok: true, headSeq: 3_200 } });
    expect(await pruneArchived(handle, checkpoint, async () => {}, 0)).toEqual({ removed: 1_000, done: false });
    expect(await pruneArchived(handle, checkpoint, async () => {}, 0)).toEqual({ removed: 500, done: false });
    expect(await pruneArchived(handle, checkpoint, async () => {}, 0)).toEqual({ removed: 0, done: true });
    expect(await db.count('audit')).toBe(700);
    expect(await verifyBrowserPart(handle)).toMatchObject({ problem: null, verdict: { ok: true, count: 700, headSeq: 3_200 } });
  });

  it('refuses a checkpoint not signed by this sandbox, altered, stale, or naming another entry', async () => {
    const { handle } = await logOf(200);
    const { checkpoint } = await archive(handle, 100);
    // Another sandbox's archive of its own log (same seqs).
    const other = await logOf(200);
    const foreign = (await archive(other.handle, 100)).checkpoint;
    expect(await code(pruneArchived(handle, foreign))).toBe('archive-signature');
    expect(await code(pruneArchived(handle, { ...checkpoint, through: 150 }))).toBe('archive-signature');
    expect(await code(pruneArchived(handle, { ...checkpoint, signature: checkpoint.signature.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) }))).toBe('archive-signature');
    // The entry it ends with was rewritten since (hash and all): stale.
    const db = await handle.get();
    const e = (await db.get('audit', 100))!;
    await db.put('audit', { ...e, hash: 'a'.repeat(64) });
    expect(await code(pruneArchived(handle, checkpoint))).toBe('archive-stale');
    await db.put('audit', e);
    expect(await pruneArchived(handle, checkpoint)).toEqual({ removed: 100, done: true });
    expect(await db.count('audit')).toBe(100);
  });

  it('the chain left in the browser still shows a removed entry, an altered checkpoint, or a forged one', async () => {
    const { handle } = await logOf(300);
    const { checkpoint } = await archive(handle, 200);
    await pruneArchived(handle, checkpoint);
    const db = await handle.get();
    // Removing the oldest entry left, without an archive: a gap.
    const first = (await db.get('audit', 201))!;
    await db.delete('audit', 201);
    expect((await verifyBrowserPart(handle)).verdict).toMatchObject({ ok: false, seq: 202, reason: 'gap' });
    await db.put('audit', first);
    // The stored checkpoint altered to hide more: its signature no longer holds.
    await db.put('archives', { ...checkpoint, through: 201, hash: first.hash });
    expect((await verifyBrowserPart(handle)).problem).toMatch(/does not match its signature/);
    await db.delete('archives', 201);
    expect(await verifyBrowserPart(handle)).toMatchObject({ problem: null, verdict: { ok: true, count: 100 } });
  });
});
