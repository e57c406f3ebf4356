import { chainStart } from './archive';
import { verifyChain, type ChainVerdict, type Tail } from './audit';
import type { DbHandle } from './db';

/** One slice of a verification, and where the log stood when it was read. */
export type VerifiedSlice = ChainVerdict & {
  /** The log's newest entry at the time. */
  newestSeq: number;
  /** The slice reached `newestSeq` (or found a break). */
  complete: boolean;
  /** Set when the slice started from an archive checkpoint (retention) instead of `from`. */
  archivedThrough?: number;
};

/** Entries per slice, by default and at most. */
export const VERIFY_SLICE = 2_000;
export const VERIFY_SLICE_MAX = 20_000;

/**
 * Verifies at most `limit` entries after `from` on one read transaction of their own (so a long
 * verification is many short ones, and writers are never held up for long). Without `from`, or
 * from before the newest archive checkpoint, it starts at that checkpoint (its signature checked:
 * what it vouches for was verified as it was archived), else at the genesis.
 */
export async function verifySlice(handle: DbHandle, from?: Tail, limit = VERIFY_SLICE): Promise<VerifiedSlice> {
  const archive = await chainStart(handle);
  const start = from && from.seq >= archive.from.seq ? null : archive;
  const at: Tail = start ? start.from : from!;
  const n = Math.min(VERIFY_SLICE_MAX, Math.max(1, Math.floor(Number(limit)) || VERIFY_SLICE));
  const db = await handle.get();
  const tx = db.transaction('audit');
  const [records, newest] = await Promise.all([tx.store.getAll(IDBKeyRange.lowerBound(at.seq, true), n), tx.store.openCursor(null, 'prev')]);
  const newestSeq = newest ? Number(newest.key) : 0;
  // Hashing waits for the transaction's end: a transaction lasts until the task that handles its
  // last request ends, microtasks included, and a call's write would wait behind it meanwhile.
  await tx.done;
  const archivedThrough = start?.archived ? { archivedThrough: start.archived.through } : {};
  if (start?.problem) return { ok: false, count: 0, seq: at.seq + 1, reason: 'malformed', detail: start.problem, newestSeq, complete: true, ...archivedThrough };
  const verdict = await verifyChain(records, at);
  return { ...verdict, newestSeq, complete: verdict.ok ? verdict.headSeq >= newestSeq : true, ...archivedThrough };
}
