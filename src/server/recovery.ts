import type { ServerContext } from './context';

/**
 * Closes the write-ahead records of calls cut off by a service-worker stop: each gets a
 * `call.interrupted` entry, so every request entry in the chain ends up with an outcome.
 * Runs once per wake, before the first message is handled.
 */
export async function recoverInterrupted(ctx: ServerContext): Promise<number> {
  const db = await ctx.db.get();
  const orphans = (await db.getAll('pending')).filter((p) => p.incarnation !== ctx.incarnation);
  for (const p of orphans) {
    await ctx.audit.append(
      {
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
      },
      { closePending: p.callId },
    );
  }
  return orphans.length;
}
