import { openCalls } from '../store/open-calls';
import type { ServerContext } from './context';

/** One recovery at a time per context: a wake's and a watch's must not close a call twice. */
const running = new WeakMap<ServerContext, Promise<unknown>>();
/** The live lifetimes this context already waits on. */
const watching = new WeakMap<ServerContext, Set<string>>();

/**
 * Closes the calls cut off by a service-worker stop: each call of an ended lifetime still open
 * (a write-ahead record and no closing entry, store/open-calls.ts) gets a `call.interrupted`
 * entry, so every request entry in the chain ends up with an outcome; then that lifetime's
 * records are cleared. Runs once per wake, before the first message is handled.
 *
 * A lifetime that still runs is left alone (lifetimes.ts): during an update the new service
 * worker activates while the old one finishes its calls, which end with their own results. Its
 * calls are closed when it ends, if any is still open then: recovery runs again at that moment.
 * Returns how many calls it closed.
 */
export function recoverInterrupted(ctx: ServerContext): Promise<number> {
  const previous = running.get(ctx) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(() => recoverNow(ctx));
  running.set(ctx, next);
  return next;
}

async function recoverNow(ctx: ServerContext): Promise<number> {
  const db = await ctx.db.get();
  const { open, records } = await openCalls(db);
  const others = [...new Set(records.map((r) => r.incarnation))].filter((i) => i !== ctx.incarnation);
  const alive = await ctx.lifetimes.alive(others);
  for (const incarnation of alive) watch(ctx, incarnation);
  const ended = (incarnation: string) => incarnation !== ctx.incarnation && !alive.has(incarnation);
  const orphans = open.filter((c) => ended(c.record.incarnation)).map((c) => c.record);
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
  const stale = records.filter((r) => ended(r.incarnation));
  if (stale.length > 0) {
    const tx = db.transaction('callSlots', 'readwrite');
    await Promise.all([...stale.map((r) => tx.store.delete([r.incarnation, r.slot])), tx.done]);
  }
  return orphans.length;
}

/** Recovers again once a lifetime that still ran has ended (at most one watch per lifetime). */
function watch(ctx: ServerContext, incarnation: string): void {
  let set = watching.get(ctx);
  if (!set) watching.set(ctx, (set = new Set()));
  if (set.has(incarnation)) return;
  set.add(incarnation);
  void ctx.lifetimes
    .ended(incarnation)
    .then(() => recoverInterrupted(ctx))
    .catch(() => undefined)
    .finally(() => set.delete(incarnation));
}
