import type { AgentMetrics } from '../api/admin';
import { agentAggregatesOf, readAgentAggregates } from '../store/aggregates';
import type { AgentAggregate, AuditEntry } from '../store/schema';
import type { ServerContext } from './context';

/** What the audit log says of an agent; `agentMetrics` adds the live counters. */
export type AgentFigures = Omit<AgentMetrics, 'lastMinute' | 'active'>;

/**
 * Per-agent figures, from the aggregates kept beside the audit log (the one source of truth;
 * src/store/aggregates.ts folds each entry in the transaction that commits it), and live
 * counters. Reads a few small records, never the log (except once, to build the aggregates of a
 * log written before they existed).
 */
export async function agentMetrics(ctx: ServerContext, agentId?: string): Promise<AgentMetrics[]> {
  const id = agentId || undefined;
  // The server's own log keeps the aggregates in memory; a context without one reads the store.
  const records = ctx.audit ? agentAggregatesOf(await ctx.audit.aggregates(), id) : await readAgentAggregates(ctx.db, id);
  const figures = figuresFromAggregates(records, id);
  const now = ctx.clock();
  return figures.map(({ meanDurationMs, ...f }) => ({ ...f, lastMinute: ctx.counters.lastMinute(f.agentId, now), active: ctx.counters.activeCalls(f.agentId), meanDurationMs }));
}

/** Pure: the figures of every agent with an aggregate (or of `agentId` alone), in the order the log first named them. */
export function figuresFromAggregates(aggregates: readonly AgentAggregate[], agentId?: string): AgentFigures[] {
  const out = [...aggregates]
    .sort((a, b) => a.firstSeq - b.firstSeq)
    .map((a): AgentFigures => ({
      agentId: a.agentId,
      calls: a.calls,
      ok: a.ok,
      // Cancelled calls count as errors, as they always have in these figures.
      errors: a.errors + a.cancelled,
      // `call.rejected` entries and results `denied` (a capability refused).
      denied: a.denied,
      meanDurationMs: a.durationCount ? a.durationSumMs / a.durationCount : null,
    }));
  if (agentId !== undefined && !out.some((f) => f.agentId === agentId)) out.unshift({ agentId, calls: 0, ok: 0, errors: 0, denied: 0, meanDurationMs: null });
  return agentId === undefined ? out : out.filter((f) => f.agentId === agentId);
}

/**
 * Pure: the same figures from a scan of the log, as they were computed before the aggregates
 * existed. The reference the aggregates are tested against (test/unit/aggregates.test.ts).
 */
export function metricsFromAudit(entries: readonly AuditEntry[], agentId?: string): AgentFigures[] {
  const byAgent = new Map<string, AgentFigures & { durations: number; results: number }>();
  const of = (id: string) => {
    let m = byAgent.get(id);
    if (!m) {
      m = { agentId: id, calls: 0, ok: 0, errors: 0, denied: 0, meanDurationMs: null, durations: 0, results: 0 };
      byAgent.set(id, m);
    }
    return m;
  };
  if (agentId) of(agentId);
  for (const e of entries) {
    if (!e.agentId || (agentId && e.agentId !== agentId)) continue;
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
