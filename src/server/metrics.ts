import type { AgentMetrics } from '../api/admin';
import type { ServerContext } from './context';

/** Per-agent figures, derived from the audit log (the one source of truth) and live counters. */
export async function agentMetrics(ctx: ServerContext, agentId?: string): Promise<AgentMetrics[]> {
  const db = await ctx.db.get();
  const entries = agentId ? await db.getAllFromIndex('audit', 'by-agent', agentId) : await db.getAll('audit');
  const byAgent = new Map<string, AgentMetrics & { durations: number; results: number }>();
  const now = ctx.clock();
  const of = (id: string) => {
    let m = byAgent.get(id);
    if (!m) {
      m = { agentId: id, calls: 0, ok: 0, errors: 0, denied: 0, lastMinute: ctx.counters.lastMinute(id, now), active: ctx.counters.activeCalls(id), meanDurationMs: null, durations: 0, results: 0 };
      byAgent.set(id, m);
    }
    return m;
  };
  if (agentId) of(agentId);
  for (const e of entries) {
    if (!e.agentId) continue;
    const m = of(e.agentId);
    if (e.event === 'call.request') m.calls++;
    else if (e.event === 'call.result') {
      // A call whose tool was refused a capability ends `denied`: counted with the denials.
      if (e.outcome === 'ok') m.ok++;
      else if (e.outcome === 'denied') m.denied++;
      else m.errors++;
      m.durations += e.durationMs ?? 0;
      m.results++;
    } else if (e.event === 'call.rejected') m.denied++;
  }
  return [...byAgent.values()].map(({ durations, results, ...m }) => ({ ...m, meanDurationMs: results ? durations / results : null }));
}
