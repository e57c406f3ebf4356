import type { ToolStats } from '../api/admin';
import { percentileMs, readToolAggregates, toolAggregatesOf } from '../store/aggregates';
import type { AuditEntry, ToolAggregate } from '../store/schema';
import type { ServerContext } from './context';

/**
 * Usage and performance per tool, from the aggregates kept beside the audit log (the one source
 * of truth; src/store/aggregates.ts folds each entry in the transaction that commits it):
 * invocations are `call.request` entries, outcomes and timings come from `call.result`. Reads
 * a few small records, never the log (except once, to build the aggregates of a log written
 * before they existed). p95 is read from a log-scale histogram, within 1.1 %.
 */
export async function toolStats(ctx: ServerContext, name?: string): Promise<ToolStats[]> {
  // The server's own log keeps the aggregates in memory; a context without one reads the store.
  const records = ctx.audit ? ctx.audit.aggregates().then((fold) => toolAggregatesOf(fold, name)) : readToolAggregates(ctx.db, name);
  const [aggregates, names] = await Promise.all([records, name === undefined ? ctx.db.get().then((db) => db.getAllKeys('tools')) : [name]]);
  return statsFromAggregates(aggregates, names);
}

/** Pure: figures for every tool named in `names` or that has run, as `statsFromAudit` computes them from a scan. */
export function statsFromAggregates(aggregates: readonly ToolAggregate[], names: readonly string[] = []): ToolStats[] {
  const by = new Map<string, ToolStats>();
  const blank = (tool: string): ToolStats => ({ name: tool, invocations: 0, ok: 0, errors: 0, denied: 0, successRate: null, meanMs: null, p95Ms: null, peakMemoryBytes: null, lastUsedAt: null });
  for (const n of names) by.set(n, blank(n));
  for (const t of aggregates) {
    // A tool only interrupted (its request gone from the log) is not one `statsFromAudit` would list.
    if (t.invocations === 0 && t.results === 0 && !by.has(t.name)) continue;
    const d = t.durations;
    by.set(t.name, {
      name: t.name,
      invocations: t.invocations,
      ok: t.ok,
      // Cancelled calls count as errors, as they always have in these figures.
      errors: t.errors + t.cancelled,
      denied: t.denied,
      successRate: t.results ? t.ok / t.results : null,
      meanMs: d.count ? d.sumMs / d.count : null,
      p95Ms: percentileMs(d, 0.95),
      peakMemoryBytes: t.peakMemoryBytes,
      lastUsedAt: t.lastUsedAt,
    });
  }
  return [...by.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Pure: figures for every tool named in `names` or found in the entries, from a scan of the log.
 * The reference the aggregates are tested against (test/unit/aggregates.test.ts).
 */
export function statsFromAudit(entries: readonly AuditEntry[], names: readonly string[] = []): ToolStats[] {
  const by = new Map<string, { s: ToolStats; durations: number[] }>();
  const of = (tool: string) => {
    let m = by.get(tool);
    if (!m) {
      m = { s: { name: tool, invocations: 0, ok: 0, errors: 0, denied: 0, successRate: null, meanMs: null, p95Ms: null, peakMemoryBytes: null, lastUsedAt: null }, durations: [] };
      by.set(tool, m);
    }
    return m;
  };
  for (const n of names) of(n);
  for (const e of entries) {
    if (!e.tool || (e.event !== 'call.request' && e.event !== 'call.result')) continue;
    const m = of(e.tool);
    if (e.event === 'call.request') {
      m.s.invocations++;
      m.s.lastUsedAt = Math.max(m.s.lastUsedAt ?? 0, e.ts);
      continue;
    }
    if (e.outcome === 'ok') m.s.ok++;
    else if (e.outcome === 'denied') m.s.denied++;
    else m.s.errors++;
    if (typeof e.durationMs === 'number') m.durations.push(e.durationMs);
    if (typeof e.memoryBytes === 'number') m.s.peakMemoryBytes = Math.max(m.s.peakMemoryBytes ?? 0, e.memoryBytes);
  }
  return [...by.values()]
    .map(({ s, durations }) => {
      const finished = s.ok + s.errors + s.denied;
      if (finished) s.successRate = s.ok / finished;
      if (durations.length) {
        durations.sort((a, b) => a - b);
        s.meanMs = durations.reduce((a, b) => a + b, 0) / durations.length;
        s.p95Ms = durations[Math.min(durations.length - 1, Math.ceil(0.95 * durations.length) - 1)]!;
      }
      return s;
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
