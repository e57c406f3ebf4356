import { openCalls } from '../store/open-calls';
import type { ServerContext } from './context';

/**
 * Closes the calls cut off by a service-worker stop: each call of another lifetime still open
 * (a write-ahead record and no closing entry, store/open-calls.ts) gets a `call.interrupted`
 * entry, so every request entry in the chain ends up with an outcome; then that lifetime's
 * records are cleared. Runs once per wake, before the first message is handled.
 */
export async function recoverInterrupted(ctx: ServerContext): Promise<number> {
  const db = await ctx.db.get();
  const { open, records } = await openCalls(db);
  const orphans = open.filter((c) => c.record.incarnation !== ctx.incarnation).map((c) => c.record);
  for (const p of orphans) {
    await ctx.audit.append({
      event: 'call.interrupted',
      outcome: 'interrupted',
      sessionId: p.sessionId,
      agentId: p.agentId,
      callId: p.callId,
      tool: p.tool,
      // The reply does not wait for the result entry's commit: the call may have finished and
      // its agent seen the result, so this says only that no outcome was recorded.
      error: { code: 'interrupted', message: 'the service worker was stopped before this call\'s outcome was recorded; it may have finished, and its agent may have received a result' },
      details: { startedAt: p.startedAt, incarnation: p.incarnation, outcomeRecorded: false },
    });
  }
  // Every call of those lifetimes is closed now: their records are of no further use.
  const stale = records.filter((r) => r.incarnation !== ctx.incarnation);
  if (stale.length > 0) {
    const tx = db.transaction('callSlots', 'readwrite');
    await Promise.all([...stale.map((r) => tx.store.delete([r.incarnation, r.slot])), tx.done]);
  }
  return orphans.length;
}
