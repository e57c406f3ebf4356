import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { AuditLog, readAudit, type AuditDraft } from '../../src/store/audit';
import { BUCKET_RING, BUCKET_WIDTHS, HISTOGRAM_FLOOR_MS, MAX_BUCKET_PAIRS, PAIR_PERCENTILE_RELATIVE_ERROR, PERCENTILE_RELATIVE_ERROR, finishedOutcome, isTimeBucket, rebuildAggregates, type TimeBucket } from '../../src/store/aggregates';
import { CHART_POINTS, MAX_BUCKET_READS, chartPlan, readChartWindow } from '../../src/store/aggregate-window';
import { DbHandle } from '../../src/store/db';
import type { AuditEntry } from '../../src/store/schema';
import { freshDbName } from './support/server-fixture';

// Issue 12: the audit charts come from time buckets folded beside the log (aggregates.ts), never
// from the rows a view has loaded. These prove the fold (incremental = rebuild, bounded storage)
// and the window read against a scan of the log.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T0 = 1_700_000_000_000;

function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const AGENTS = ['alpha', 'beta', 'gamma'];
const TOOLS = ['echo', 'hash', 'zip', 'regex'];

/**
 * Calls with their own timestamps over `days` days (bursts and quiet hours), a few stamped
 * earlier than the one before (a clock set back), through two writers taking turns, some
 * committed without a checkpoint. Returns the log's writers.
 */
async function seed(name: string, calls: number, days: number, rnd: () => number): Promise<AuditLog[]> {
  const writers = [new AuditLog(new DbHandle(name)), new AuditLog(new DbHandle(name))];
  let ts = T0;
  const step = (days * DAY) / calls;
  for (let i = 0; i < calls; i += 20) {
    const log = writers[Math.floor(i / 200) % 2]!;
    const drafts: AuditDraft[] = [];
    for (let k = i; k < Math.min(calls, i + 20); k++) {
      ts += Math.floor(rnd() * 2 * step);
      const agentId = AGENTS[Math.floor(rnd() * AGENTS.length)]!;
      const tool = TOOLS[Math.floor(rnd() * TOOLS.length)]!;
      const callId = `c${k}`;
      const r = rnd();
      // Now and then a clock set back by up to 10 minutes: counted at the newest time folded.
      const at = rnd() < 0.02 ? ts - Math.floor(rnd() * 10 * MINUTE) : ts;
      if (r < 0.1) drafts.push({ ts: at, event: 'call.rejected', outcome: 'denied', agentId, tool, callId });
      else {
        drafts.push({ ts: at, event: 'call.request', outcome: 'pending', agentId, tool, callId });
        if (r < 0.15) drafts.push({ ts: at, event: 'call.interrupted', outcome: 'interrupted', agentId, tool, callId });
        else drafts.push({ ts: at, event: 'call.result', outcome: r < 0.7 ? 'ok' : r < 0.85 ? 'error' : r < 0.93 ? 'denied' : 'cancelled', agentId, tool, callId, durationMs: rnd() < 0.05 ? null : rnd() < 0.03 ? 0 : Math.round(Math.exp(1 + 3 * rnd()) * 1024) / 1024 });
      }
    }
    await Promise.all(drafts.map((d) => log.append(d)));
  }
  return writers;
}

/** Every time bucket stored, by key. */
async function storedBuckets(handle: DbHandle): Promise<TimeBucket[]> {
  return ((await (await handle.get()).getAll('aggregates')) as unknown[]).filter(isTimeBucket).sort((a, b) => (JSON.stringify(a.key) < JSON.stringify(b.key) ? -1 : 1));
}

/** The scan's view: each finished call at its clock (the newest finished `ts` up to it), in seq order. */
function finishedCalls(entries: AuditEntry[]): { at: number; outcome: 'ok' | 'error' | 'denied'; durationMs: number | null; agentId: string | null; tool: string | null }[] {
  let clock = -Infinity;
  const out = [];
  for (const e of entries) {
    const outcome = finishedOutcome(e.event, e.outcome);
    if (!outcome) continue;
    clock = Math.max(clock, e.ts);
    out.push({ at: clock, outcome, durationMs: e.event === 'call.result' ? e.durationMs : null, agentId: e.agentId, tool: e.tool });
  }
  return out;
}

function exactQuantile(values: number[], q: number): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function expectNear(estimate: number | null, exact: number | null, error = PERCENTILE_RELATIVE_ERROR): void {
  if (exact === null) return void expect(estimate).toBeNull();
  const allowed = exact < HISTOGRAM_FLOOR_MS ? HISTOGRAM_FLOOR_MS : exact * error * (1 + 1e-9);
  expect(Math.abs(estimate! - exact)).toBeLessThanOrEqual(allowed);
}

describe('audit time buckets', () => {
  it('folded incrementally equal a rebuild, count every finished call at its clock, and stay within their rings', { timeout: 60_000 }, async () => {
    const name = freshDbName();
    const writers = await seed(name, 3000, 5, random(11));
    for (const log of writers) await log.checkpoint();
    const handle = new DbHandle(name);
    const entries = await readAudit(handle);
    const calls = finishedCalls(entries);
    const clock = calls.at(-1)!.at;
    expect(clock - calls[0]!.at).toBeGreaterThan(4 * DAY);

    const incremental = await storedBuckets(handle);
    // Bounded: a ring of slots per width; 5 days of minutes went round the 3 days' ring, newer
    // buckets taking the slots of older ones.
    for (const w of BUCKET_WIDTHS) expect(incremental.filter((b) => b.widthMs === w).length).toBeLessThanOrEqual(BUCKET_RING[w]!);
    const minutesWithCalls = new Set(calls.map((c) => Math.floor(c.at / MINUTE))).size;
    const minutesStored = incremental.filter((b) => b.widthMs === MINUTE).length;
    expect(minutesStored).toBeGreaterThan(1000);
    expect(minutesStored).toBeLessThan(minutesWithCalls);
    // Within the ring's span back from the clock, every minute with calls is held.
    const recent = new Set(calls.filter((c) => c.at > clock - (BUCKET_RING[MINUTE]! - 1) * MINUTE).map((c) => Math.floor(c.at / MINUTE) * MINUTE));
    expect(recent.size).toBeGreaterThan(1000);
    const minuteStarts = new Set(incremental.filter((b) => b.widthMs === MINUTE).map((b) => b.start));
    for (const start of recent) expect(minuteStarts.has(start)).toBe(true);

    // Each stored bucket holds exactly the finished calls whose clock falls in it.
    const byBucket = new Map<string, typeof calls>();
    for (const c of calls) for (const w of BUCKET_WIDTHS) byBucket.set(`${w}:${Math.floor(c.at / w) * w}`, [...(byBucket.get(`${w}:${Math.floor(c.at / w) * w}`) ?? []), c]);
    for (const b of incremental) {
      const inside = byBucket.get(`${b.widthMs}:${b.start}`) ?? [];
      expect(inside.length).toBeGreaterThan(0);
      expect([b.ok, b.error, b.denied]).toEqual(['ok', 'error', 'denied'].map((o) => inside.filter((c) => c.outcome === o).length));
      expect(b.durations.count).toBe(inside.filter((c) => c.durationMs !== null).length);
      // Per pair too (3 agents × 4 tools: all broken down).
      expect(b.unattributed).toBe(0);
      for (const [key, f] of Object.entries(b.pairs)) {
        const [agentId, tool] = JSON.parse(key) as [string, string];
        expect(f.ok + f.error + f.denied).toBe(inside.filter((c) => c.agentId === agentId && c.tool === tool).length);
      }
    }
    // The first hours are kept in the hours' ring.
    expect(incremental.some((b) => b.widthMs === HOUR && b.start <= calls[0]!.at)).toBe(true);

    await rebuildAggregates(handle);
    expect(await storedBuckets(handle)).toEqual(incremental);
  });

  it('reads a window from the buckets (stored and not yet stored) as a scan of the log counts it, by agent and tool, with p50 and p95', { timeout: 60_000 }, async () => {
    const name = freshDbName();
    const [log] = await seed(name, 2000, 2, random(5));
    // Calls after the last checkpoint: only the log's own fold holds them.
    const last = (await readAudit(new DbHandle(name))).at(-1)!.ts;
    for (let i = 0; i < 30; i++) await log!.append({ ts: last + 1000 * (i + 1), event: 'call.result', outcome: i % 3 ? 'ok' : 'error', agentId: 'late', tool: 'echo', callId: `late${i}`, durationMs: 5 + i });
    const handle = new DbHandle(name);
    const entries = await readAudit(handle);
    const calls = finishedCalls(entries);
    const clock = calls.at(-1)!.at;
    const fold = await log!.aggregates();

    const cases: { from: number; to: number; agentId?: string; tool?: string }[] = [
      { from: clock - HOUR, to: clock + 1 },
      { from: clock - 15 * MINUTE, to: clock + 1, agentId: 'late' },
      { from: clock - DAY, to: clock + 1, tool: 'hash' },
      { from: clock - 2 * DAY - HOUR, to: clock - DAY, agentId: 'beta', tool: 'zip' },
      { from: calls[0]!.at + 3 * HOUR + 123, to: calls[0]!.at + 5 * HOUR + 7_777 },
    ];
    for (const q of cases) {
      const w = await readChartWindow(handle, fold, q);
      expect(w.points.length).toBeLessThanOrEqual(CHART_POINTS + 1);
      expect(w.start).toBeLessThanOrEqual(q.from);
      expect(w.end).toBeGreaterThanOrEqual(q.to);
      expect(w.partial).toBe(false);
      let total = 0;
      for (const p of w.points) {
        const inside = calls.filter((c) => c.at >= p.start && c.at < p.start + w.bucketMs && (!q.agentId || c.agentId === q.agentId) && (!q.tool || c.tool === q.tool));
        expect([p.ok, p.error, p.denied]).toEqual(['ok', 'error', 'denied'].map((o) => inside.filter((c) => c.outcome === o).length));
        const durations = inside.flatMap((c) => (c.durationMs === null ? [] : [c.durationMs]));
        expect(p.timed).toBe(durations.length);
        // Filtered, from the pairs' coarser histograms (about 9 %); else the buckets' own (1.1 %).
        expect(w.percentileError).toBe(q.agentId || q.tool ? PAIR_PERCENTILE_RELATIVE_ERROR : PERCENTILE_RELATIVE_ERROR);
        expectNear(p.p50Ms, exactQuantile(durations, 0.5), w.percentileError);
        expectNear(p.p95Ms, exactQuantile(durations, 0.95), w.percentileError);
        total += inside.length;
      }
      expect(w.total).toBe(total);
    }
    // The late calls count though the store does not hold them yet.
    const late = await readChartWindow(handle, fold, { from: clock - 15 * MINUTE, to: clock + 1, agentId: 'late' });
    expect(late.total).toBe(30);
    // "All time" starts at the first finished call.
    const all = await readChartWindow(handle, fold, { from: null, to: clock + 1 });
    expect(all.from).toBe(calls[0]!.at);
    expect(all.total).toBe(calls.length);
  });

  it('reads past a kept fold that another writer has overtaken (the store is newer)', async () => {
    const name = freshDbName();
    const server = new AuditLog(new DbHandle(name));
    const page = new AuditLog(new DbHandle(name));
    const call = (log: AuditLog, i: number) => log.append({ ts: T0 + i * 1000, event: 'call.result', outcome: 'ok', agentId: 'a', tool: 'echo', callId: `c${i}`, durationMs: 2 });
    for (let i = 0; i < 3; i++) await call(server, i);
    // Another context appends and checkpoints: the server's kept fold knows nothing of it.
    for (let i = 3; i < 10; i++) await call(page, i);
    await page.checkpoint();
    const kept = server.heldAggregates()!;
    expect(kept.global.seq).toBe(3);
    const w = await readChartWindow(new DbHandle(name), kept, { from: T0, to: T0 + MINUTE });
    expect(w.total).toBe(10);
  });

  it('a damaged time bucket in storage fails neither a commit nor a chart: the aggregates are rebuilt', async () => {
    const name = freshDbName();
    const log = new AuditLog(new DbHandle(name));
    for (let i = 0; i < 3; i++) await log.append({ ts: T0 + i, event: 'call.result', outcome: 'ok', agentId: 'a', tool: 'echo', callId: `c${i}`, durationMs: 1 });
    await log.checkpoint();
    const db = await new DbHandle(name).get();
    const [minute] = (await storedBuckets(new DbHandle(name))).filter((b) => b.widthMs === MINUTE);
    await db.put('aggregates', { ...minute!, pairs: null } as never);
    // Another writer's commit continues from the store, as after a service-worker stop.
    const next = new AuditLog(new DbHandle(name));
    await next.append({ ts: T0 + 10, event: 'call.result', outcome: 'error', agentId: 'a', tool: 'echo', callId: 'c3', durationMs: 1 });
    await next.checkpoint();
    const w = await readChartWindow(new DbHandle(name), await next.aggregates(), { from: T0, to: T0 + MINUTE });
    expect(w.points.length).toBeGreaterThan(0);
    // The damaged aggregates were left to a rebuild, which the reader ran: every call counts.
    expect(w.total).toBe(4);
    expect((await storedBuckets(new DbHandle(name))).find((b) => b.widthMs === MINUTE)).toMatchObject({ ok: 3, error: 1 });
  });

  it('counts pairs beyond the cap in the totals only, and says a filtered window is partial', async () => {
    const name = freshDbName();
    const log = new AuditLog(new DbHandle(name));
    const n = MAX_BUCKET_PAIRS + 5;
    await Promise.all(Array.from({ length: n }, (_, i) => log.append({ ts: T0 + i, event: 'call.result', outcome: 'ok', agentId: `agent${i}`, tool: 'echo', callId: `c${i}`, durationMs: 1 })));
    await log.checkpoint();
    const [minute] = (await storedBuckets(new DbHandle(name))).filter((b) => b.widthMs === MINUTE);
    expect(minute).toMatchObject({ ok: n, pairCount: MAX_BUCKET_PAIRS, unattributed: 5 });
    const fold = await log.aggregates();
    const whole = await readChartWindow(new DbHandle(name), fold, { from: T0, to: T0 + MINUTE });
    expect([whole.total, whole.partial]).toEqual([n, false]);
    const first = await readChartWindow(new DbHandle(name), fold, { from: T0, to: T0 + MINUTE, agentId: 'agent0' });
    expect([first.total, first.partial]).toEqual([1, true]);
    const beyond = await readChartWindow(new DbHandle(name), fold, { from: T0, to: T0 + MINUTE, agentId: `agent${n - 1}` });
    expect([beyond.total, beyond.partial]).toEqual([0, true]);
  });

  it('plans at most MAX_BUCKET_READS stored buckets and CHART_POINTS points, at the finest width the ring still holds', () => {
    const now = T0;
    expect(chartPlan(now - 15 * MINUTE, now, now)).toMatchObject({ storedMs: MINUTE, bucketMs: MINUTE });
    expect(chartPlan(now - HOUR, now, now)).toMatchObject({ storedMs: MINUTE, bucketMs: MINUTE });
    expect(chartPlan(now - DAY, now, now)).toMatchObject({ storedMs: 10 * MINUTE, bucketMs: 30 * MINUTE });
    expect(chartPlan(now - 7 * DAY, now, now)).toMatchObject({ storedMs: HOUR, bucketMs: 2 * HOUR });
    expect(chartPlan(now - 30 * DAY, now, now)).toMatchObject({ storedMs: DAY, bucketMs: DAY });
    // An hour a week ago: minutes are gone by then, 10-minute buckets are not.
    expect(chartPlan(now - 7 * DAY, now - 7 * DAY + HOUR, now)).toMatchObject({ storedMs: 10 * MINUTE, bucketMs: 10 * MINUTE });
    for (const span of [MINUTE, 3 * HOUR, 2 * DAY, 60 * DAY, 5 * 365 * DAY]) {
      const p = chartPlan(now - span, now, now);
      expect(Math.ceil(span / p.storedMs) <= MAX_BUCKET_READS || p.storedMs === DAY).toBe(true);
      expect((p.end - p.start) / p.bucketMs).toBeLessThanOrEqual(CHART_POINTS + 1);
      expect(p.bucketMs % p.storedMs).toBe(0);
    }
  });
});
