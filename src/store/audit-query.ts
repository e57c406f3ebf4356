import type { DbHandle } from './db';
import type { AuditEntry, AuditEvent, AuditOutcome } from './schema';

export interface AuditFilter {
  agentId?: string;
  tool?: string;
  event?: AuditEvent;
  outcome?: AuditOutcome;
}

export interface AuditPage {
  /** Matching entries, newest first. */
  entries: AuditEntry[];
  /** Where the next (older) page starts: pass it as `beforeSeq`; null when the log has no more. */
  next: number | null;
}

/** Most entries a page returns, and most records one request reads to find them. */
export const QUERY_PAGE_MAX = 500;
const SCAN_MAX = 5_000;

/**
 * One page of the whole log, newest first, matching every field of `filter`, older than
 * `beforeSeq`. It walks an index when one fits (`by-tool-seq` for a tool, `by-agent-ts` for an
 * agent), else the log itself, on one short read transaction; a request reads at most SCAN_MAX
 * records, so a rare match costs several short requests (each says where to go on), never one
 * long one.
 */
export async function queryAudit(handle: DbHandle, filter: AuditFilter, beforeSeq: number | null, limit = 200, scanMax = SCAN_MAX): Promise<AuditPage> {
  const n = Math.min(QUERY_PAGE_MAX, Math.max(1, Math.floor(limit) || 1));
  const before = beforeSeq ?? Number.MAX_SAFE_INTEGER;
  const db = await handle.get();
  const tx = db.transaction('audit');
  const matches = (e: AuditEntry) => (!filter.agentId || e.agentId === filter.agentId) && (!filter.tool || e.tool === filter.tool) && (!filter.event || e.event === filter.event) && (!filter.outcome || e.outcome === filter.outcome);
  const entries: AuditEntry[] = [];
  let scanned = 0;
  let last: number | null = null;
  let cursor = filter.tool
    ? await tx.store.index('by-tool-seq').openCursor(IDBKeyRange.bound([filter.tool, -Infinity], [filter.tool, before], false, true), 'prev')
    : filter.agentId
      ? // By time within the agent, from the time of the entry the last page ended at (entries
        // of the same millisecond after it are skipped below).
        await tx.store.index('by-agent-ts').openCursor(IDBKeyRange.bound([filter.agentId, -Infinity], [filter.agentId, beforeSeq === null ? Infinity : ((await tx.store.get(beforeSeq))?.ts ?? Infinity)]), 'prev')
      : await tx.store.openCursor(IDBKeyRange.upperBound(before, true), 'prev');
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
