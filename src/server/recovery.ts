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
        error: { code: 'interrupted', message: 'the service worker was stopped while this call ran' },
        details: { startedAt: p.startedAt, incarnation: p.incarnation },
      },
      { closePending: p.callId },
    );
  }
  return orphans.length;
}
