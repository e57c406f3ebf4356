import type { AgentMetrics } from '../api/admin';
import { agentAggregatesOf, countShape, readAgentAggregates, shapeOfArgs } from '../store/aggregates';
import type { AgentAggregate, AuditEntry, SessionRecord } from '../store/schema';
import type { ServerContext } from './context';

/** What the audit log says of an agent; `agentMetrics` adds the live counters. */
export type AgentFigures = Omit<AgentMetrics, 'lastMinute' | 'active' | 'sessions'>;

/** How many preferred tools and argument shapes the figures name. */
const TOP = 5;

/** The `n` keys with the highest counts (ties by key), with their counts. */
function top<K extends string>(counts: Record<string, number>, n: number, name: K): ({ calls: number } & Record<K, string>)[] {
  return Object.entries(counts)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, n)
    .map(([key, calls]) => ({ [name]: key, calls }) as { calls: number } & Record<K, string>);
}

function median(values: number[]): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Per agent: how many sessions, and how long and how many calls a typical one lasts. */
function sessionFigures(sessions: readonly SessionRecord[]): Map<string, AgentMetrics['sessions']> {
  const by = new Map<string, SessionRecord[]>();
  for (const s of sessions) if (s.agentId) by.set(s.agentId, [...(by.get(s.agentId) ?? []), s]);
  return new Map(
    [...by].map(([id, list]) => [id, { count: list.length, medianDurationMs: median(list.map((s) => Math.max(0, (s.lastActivityAt ?? s.createdAt) - s.createdAt))), medianCalls: median(list.map((s) => s.callCount ?? 0)) }]),
  );
}

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
  const sessions = sessionFigures(await ctx.sessions.list());
  return figures.map(({ meanDurationMs, ...f }) => ({ ...f, lastMinute: ctx.counters.lastMinute(f.agentId, now), active: ctx.counters.activeCalls(f.agentId), meanDurationMs, sessions: sessions.get(f.agentId) ?? { count: 0, medianDurationMs: null, medianCalls: null } }));
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
      preferredTools: top(a.tools ?? {}, TOP, 'tool'),
      argumentShapes: top(a.shapes ?? {}, TOP, 'shape'),
    }));
  if (agentId !== undefined && !out.some((f) => f.agentId === agentId)) out.unshift({ agentId, calls: 0, ok: 0, errors: 0, denied: 0, meanDurationMs: null, preferredTools: [], argumentShapes: [] });
  return agentId === undefined ? out : out.filter((f) => f.agentId === agentId);
}

/**
 * Pure: the same figures from a scan of the log, as they were computed before the aggregates
 * existed. The reference the aggregates are tested against (test/unit/aggregates.test.ts).
 */
export function metricsFromAudit(entries: readonly AuditEntry[], agentId?: string): AgentFigures[] {
  const byAgent = new Map<string, Omit<AgentFigures, 'preferredTools' | 'argumentShapes'> & { durations: number; results: number; tools: Record<string, number>; shapes: Record<string, number> }>();
  const of = (id: string) => {
    let m = byAgent.get(id);
    if (!m) {
      m = { agentId: id, calls: 0, ok: 0, errors: 0, denied: 0, meanDurationMs: null, durations: 0, results: 0, tools: {}, shapes: {} };
      byAgent.set(id, m);
    }
    return m;
  };
  if (agentId) of(agentId);
  for (const e of entries) {
    if (!e.agentId || (agentId && e.agentId !== agentId)) continue;
    const m = of(e.agentId);
    if (e.event === 'call.request') {
      m.calls++;
      if (e.tool) m.tools[e.tool] = (m.tools[e.tool] ?? 0) + 1;
      const shape = shapeOfArgs(e.args);
      if (shape !== null) countShape(m.shapes, shape);
    } else if (e.event === 'call.result') {
      // A call whose tool was refused a capability ends `denied`: counted with the denials.
      if (e.outcome === 'ok') m.ok++;
      else if (e.outcome === 'denied') m.denied++;
      else m.errors++;
      m.durations += e.durationMs ?? 0;
      m.results++;
    } else if (e.event === 'call.rejected') m.denied++;
  }
  return [...byAgent.values()].map(({ durations, results, tools, shapes, ...m }) => ({ ...m, meanDurationMs: results ? durations / results : null, preferredTools: top(tools, TOP, 'tool'), argumentShapes: top(shapes, TOP, 'shape') }));
}
