import type { ToolStats } from '../api/admin';
import type { AuditEntry } from '../store/schema';
import type { ServerContext } from './context';

/**
 * Usage and performance per tool, derived from the audit log (the one source of truth, as for
 * agents in metrics.ts): invocations are `call.request` entries, outcomes and timings come from
 * `call.result`. Nothing is counted twice or kept beside the log.
 */
export async function toolStats(ctx: ServerContext, name?: string): Promise<ToolStats[]> {
  const db = await ctx.db.get();
  const [entries, tools] = await Promise.all([db.getAll('audit'), db.getAllKeys('tools')]);
  const stats = statsFromAudit(entries, name === undefined ? tools : [name]);
  return name === undefined ? stats : stats.filter((s) => s.name === name);
}

/** Pure: figures for every tool named in `names` or found in the entries. */
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
