import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { AuditLog, GENESIS_HASH, readAudit, type AuditDraft } from '../../src/store/audit';
import {
  AGGREGATE_FORMAT,
  HISTOGRAM_FLOOR_MS,
  PERCENTILE_RELATIVE_ERROR,
  REBUILD_SLICE,
  addDuration,
  emptyHistogram,
  percentileMs,
  rebuildAggregates,
  AGGREGATE_CHECKPOINT,
  readCaughtUp,
  toolAggregatesOf,
  type StoredAggregate,
} from '../../src/store/aggregates';
import { DbHandle, openStore, type Db } from '../../src/store/db';
import { DB_VERSION } from '../../src/store/migrations';
import type { AuditEntry, ToolAggregate } from '../../src/store/schema';
import type { ServerContext } from '../../src/server/context';
import { SessionStore } from '../../src/server/sessions';
import { SessionCheckpoints } from '../../src/store/session-checkpoints';
import { CallCounters } from '../../src/server/counters';
import { agentMetrics, metricsFromAudit } from '../../src/server/metrics';
import { statsFromAudit, toolStats } from '../../src/server/tool-stats';
import type { ToolStats } from '../../src/api/admin';
import { freshDbName, startHarness } from './support/server-fixture';

/** A database handle that counts what touches the audit store: transactions over it and shortcut reads of it. */
class CountingHandle extends DbHandle {
  auditAccesses = 0;
  override get(): Promise<Db> {
    return super.get().then(
      (db) =>
        new Proxy(db, {
          get: (target, prop) => {
            const value: unknown = Reflect.get(target, prop, target);
            if (typeof value !== 'function') return value;
            return (...args: unknown[]) => {
              const touches = prop === 'transaction' ? [args[0]].flat().includes('audit') : args[0] === 'audit';
              if (touches) this.auditAccesses++;
              return (value as (...a: unknown[]) => unknown).apply(target, args);
            };
          },
        }),
    );
  }
}

/** Just what toolStats and agentMetrics use: the database, a clock and the live counters. */
function statsContext(db: DbHandle): ServerContext {
  return { db, clock: Date.now, counters: new CallCounters(db), sessions: new SessionStore(db, new SessionCheckpoints()) } as unknown as ServerContext;
}

/** A seeded PRNG (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOOLS = ['echo', 'text_stats', 'hash', 'json_query', 'image_resize', 'regex', 'sqlite', 'zip'];
const AGENTS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta'];

/**
 * A duration from a long-tailed distribution: mostly tens of ms, some under a microsecond, some
 * seconds. `dyadic` rounds to 1/1024 ms (exact in binary, so sums do not depend on their order).
 */
function duration(rnd: () => number, dyadic: boolean): number | null {
  const r = rnd();
  if (r < 0.03) return null;
  if (r < 0.06) return 0;
  if (r < 0.09) return 2 ** -12;
  const ms = Math.exp(Math.log(20) + 1.6 * Math.sqrt(-2 * Math.log(rnd() || 1e-9)) * Math.cos(2 * Math.PI * rnd()));
  return dyadic ? Math.round(ms * 1024) / 1024 : ms;
}

/**
 * Random calls as the server writes them (request, capability uses, result; rejections;
 * interruptions), 40 at once (group commits of every size), through two writers (AuditLog
 * instances, as two contexts have) on one database, taking turns by groups of calls: each turn
 * starts on a stale cached tail, so its first commit fails on a taken `seq`, aborts with its
 * aggregates, and is re-chained and re-folded on the real tail.
 */
async function randomCalls(name: string, calls: number, seed: number, dyadic = true): Promise<void> {
  const rnd = random(seed);
  let now = 1_700_000_000_000;
  const clock = () => (now += 1 + Math.floor(rnd() * 50));
  const writers = [new AuditLog(new DbHandle(name), clock), new AuditLog(new DbHandle(name), clock)];
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const one = async (i: number) => {
    const log = writers[Math.floor(i / 40) % 2]!;
    const agentId = pick(AGENTS);
    const tool = pick(TOOLS);
    const callId = `call-${seed}-${i}`;
    const sealed = rnd() < 0.15;
    const base: Partial<AuditDraft> = { sessionId: `s-${agentId}`, agentId, callId, tool, args: { text: `input ${i}` }, ...(sealed ? { seal: ['args', 'details'] as const } : {}) };
    const r = rnd();
    if (r < 0.03) return void (await log.append({ event: 'session.open', outcome: 'info', agentId, sessionId: `s-${agentId}` }));
    if (r < 0.15) return void (await log.append({ ...base, event: 'call.rejected', outcome: 'denied', tool: rnd() < 0.3 ? `unknown_${i}` : tool, details: { rule: 'rate.calls-per-minute' } }));
    await log.append({ ...base, event: 'call.request', outcome: 'pending' });
    while (rnd() < 0.2) await log.append({ ...base, event: 'call.capability', outcome: rnd() < 0.5 ? 'ok' : 'denied', details: { capability: 'files:read' } });
    const end = rnd();
    if (end < 0.05) return void (await log.append({ ...base, event: 'call.interrupted', outcome: 'interrupted' }));
    const outcome = end < 0.65 ? 'ok' : end < 0.8 ? 'error' : end < 0.9 ? 'denied' : 'cancelled';
    const memoryBytes = rnd() < 0.1 ? null : Math.floor(rnd() * 64) * 65536;
    await log.append({ ...base, event: 'call.result', outcome, durationMs: duration(rnd, dyadic), memoryBytes, details: { output: 'x'.repeat(Math.floor(rnd() * 20)) } });
  };
  // Calls run many at a time, as agents' calls do.
  for (let i = 0; i < calls; i += 40) await Promise.all(Array.from({ length: Math.min(40, calls - i) }, (_, k) => one(i + k)));
  // The stored aggregates are a checkpoint (every AGGREGATE_CHECKPOINT entries, and when idle).
  for (const log of writers) await log.checkpoint();
}

/** The exact nearest-rank quantile, as statsFromAudit takes p95. */
function exactQuantile(values: number[], q: number): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function expectWithinHistogramError(estimate: number | null, exact: number | null): void {
  if (exact === null) return void expect(estimate).toBeNull();
  expect(estimate).not.toBeNull();
  const allowed = exact < HISTOGRAM_FLOOR_MS ? HISTOGRAM_FLOOR_MS : exact * PERCENTILE_RELATIVE_ERROR * (1 + 1e-9);
  expect(Math.abs(estimate! - exact)).toBeLessThanOrEqual(allowed);
}

/** Tool stats equal the scan's: every figure exactly but p95, which is within the histogram's error. */
function expectToolStatsMatch(actual: ToolStats[], reference: ToolStats[], exactMean: boolean): void {
  expect(actual.map((s) => s.name)).toEqual(reference.map((s) => s.name));
  actual.forEach((s, i) => {
    const ref = reference[i]!;
    const { p95Ms, meanMs, ...rest } = s;
    const { p95Ms: refP95, meanMs: refMean, ...refRest } = ref;
    expect(rest).toEqual(refRest);
    if (exactMean || refMean === null) expect(meanMs).toBe(refMean);
    else expect(Math.abs(meanMs! - refMean)).toBeLessThanOrEqual(Math.abs(refMean) * 1e-12);
    expectWithinHistogramError(p95Ms, refP95);
  });
}

const sortRecords = (records: StoredAggregate[]) => [...records].sort((a, b) => (JSON.stringify(a.key) < JSON.stringify(b.key) ? -1 : 1));

async function aggregates(handle: DbHandle): Promise<StoredAggregate[]> {
  return sortRecords(await (await handle.get()).getAll('aggregates'));
}

describe('audit aggregates', () => {
  it('kept incrementally, equal a rebuild from the log and what a scan of the log computes', async () => {
    const name = freshDbName();
    await randomCalls(name, 1500, 42);
    const handle = new CountingHandle(name);
    const db = await handle.get();
    await db.put('tools', { name: 'idle' } as never); // registered, never called
    const entries = await readAudit(handle);
    expect(entries.filter((e) => e.event === 'call.request').length).toBeGreaterThan(1000);
    expect(entries.filter((e) => e.sealed?.includes('details')).length).toBeGreaterThan(100);
    for (const outcome of ['ok', 'error', 'denied', 'cancelled'] as const) expect(entries.some((e) => e.event === 'call.result' && e.outcome === outcome)).toBe(true);
    expect(entries.some((e) => e.event === 'call.interrupted')).toBe(true);

    const incremental = await aggregates(handle);
    // The time buckets' clock: the newest and the first `ts` of a finished call.
    const finished = entries.filter((e) => ['call.result', 'call.rejected', 'call.interrupted'].includes(e.event));
    expect(incremental.find((r) => r.kind === 'global')).toEqual({ key: ['global'], kind: 'global', format: AGGREGATE_FORMAT, seq: entries.length, entries: entries.length, clockTs: Math.max(...finished.map((e) => e.ts)), sinceTs: finished[0]!.ts });

    // Answered from the aggregates alone.
    const ctx = statsContext(handle);
    handle.auditAccesses = 0;
    const stats = await toolStats(ctx);
    const metrics = await agentMetrics(ctx);
    const one = await toolStats(ctx, 'echo');
    const oneAgent = await agentMetrics(ctx, 'beta');
    const nobody = await agentMetrics(ctx, 'nobody');
    const never = await toolStats(ctx, 'never_ran');
    expect(handle.auditAccesses).toBe(0);

    // The same figures as a scan of the log (statsFromAudit, and agents' metrics as computed before).
    expectToolStatsMatch(stats, statsFromAudit(entries, ['echo', 'idle', ...TOOLS.slice(1)]), true);
    expect(stats.map((s) => s.name)).toContain('idle');
    expect(stats.some((s) => s.name.startsWith('unknown_'))).toBe(false);
    expectToolStatsMatch(one, statsFromAudit(entries, ['echo']).filter((s) => s.name === 'echo'), true);
    expect(never).toEqual(statsFromAudit([], ['never_ran']));
    expect(metrics.map(({ lastMinute, active, sessions: _s, ...m }) => (expect([lastMinute, active]).toEqual([0, 0]), m))).toEqual(metricsFromAudit(entries));
    expect(oneAgent.map(({ lastMinute: _l, active: _a, sessions: _s, ...m }) => m)).toEqual(metricsFromAudit(entries, 'beta'));
    // Preferred tools and argument shapes (hashes, never values) are counted too.
    const betaFigures = oneAgent[0]!;
    expect(betaFigures.preferredTools.length).toBeGreaterThan(0);
    expect(betaFigures.preferredTools.reduce((n, t) => n + t.calls, 0)).toBeLessThanOrEqual(betaFigures.calls);
    expect(betaFigures.argumentShapes.length).toBeGreaterThan(0);
    expect(betaFigures.argumentShapes.every((a) => /^[0-9a-f]{14}$/.test(a.shape))).toBe(true);
    expect(nobody).toEqual([{ agentId: 'nobody', calls: 0, ok: 0, errors: 0, denied: 0, lastMinute: 0, active: 0, meanDurationMs: null, preferredTools: [], argumentShapes: [], sessions: { count: 0, medianDurationMs: null, medianCalls: null } }]);
    // Denials: `call.rejected` and results `denied` both.
    const beta = entries.filter((e) => e.agentId === 'beta');
    expect(oneAgent[0]!.denied).toBe(beta.filter((e) => e.event === 'call.rejected' || (e.event === 'call.result' && e.outcome === 'denied')).length);

    // p50 (not in ToolStats) is within the same error.
    for (const tool of TOOLS) {
      const record = incremental.find((r): r is ToolAggregate => r.kind === 'tool' && r.name === tool)!;
      const durations = entries.filter((e) => e.event === 'call.result' && e.tool === tool && typeof e.durationMs === 'number').map((e) => e.durationMs!);
      expect(record.durations.count).toBe(durations.length);
      expectWithinHistogramError(percentileMs(record.durations, 0.5), exactQuantile(durations, 0.5));
      expectWithinHistogramError(percentileMs(record.durations, 0.95), exactQuantile(durations, 0.95));
      expect(record.cancelled).toBe(entries.filter((e) => e.event === 'call.result' && e.tool === tool && e.outcome === 'cancelled').length);
      expect(record.interrupted).toBe(entries.filter((e) => e.event === 'call.interrupted' && e.tool === tool).length);
    }

    // A rebuild from the log stores exactly what was kept incrementally.
    const global = await rebuildAggregates(handle);
    expect(global).toMatchObject({ seq: entries.length, entries: entries.length });
    expect(await aggregates(handle)).toEqual(incremental);
  });

  it('agrees with the scan on durations that are not exact in binary (the mean to 1e-12: sums in another order)', async () => {
    const name = freshDbName();
    await randomCalls(name, 400, 7, false);
    const handle = new DbHandle(name);
    const entries = await readAudit(handle);
    const incremental = await aggregates(handle);
    expectToolStatsMatch(await toolStats(statsContext(handle)), statsFromAudit(entries, []), false);
    // Agents' means are summed in log order, as the scan sums them: exactly equal.
    expect((await agentMetrics(statsContext(handle))).map(({ lastMinute: _l, active: _a, sessions: _s, ...m }) => m)).toEqual(metricsFromAudit(entries));
    await rebuildAggregates(handle);
    expect(await aggregates(handle)).toEqual(incremental);
  });

  it('stay exact when two writers extend the chain under each other', async () => {
    const name = freshDbName();
    const one = new AuditLog(new DbHandle(name));
    const two = new AuditLog(new DbHandle(name));
    const call = (log: AuditLog, i: number, outcome: 'ok' | 'error') => log.append({ event: 'call.result', outcome, tool: `t${i % 3}`, agentId: `a${i % 2}`, callId: `c${i}`, durationMs: i });
    await one.append({ event: 'call.request', outcome: 'pending', tool: 't0', agentId: 'a0', callId: 'c0' });
    await call(two, 1, 'ok'); // two's cached tail is empty: its first commit fails, aborts, is re-folded
    await call(one, 2, 'error'); // one's cached tail is stale
    await Promise.all([call(one, 3, 'ok'), call(two, 4, 'ok'), call(one, 5, 'error'), call(two, 6, 'ok')]);
    await one.checkpoint();
    await two.checkpoint();
    const handle = new DbHandle(name);
    const entries = await readAudit(handle);
    expect(entries).toHaveLength(7);
    const incremental = await aggregates(handle);
    expect(incremental.find((r) => r.kind === 'global')).toMatchObject({ seq: 7, entries: 7 });
    expectToolStatsMatch(await toolStats(statsContext(handle)), statsFromAudit(entries, []), true);
    await rebuildAggregates(handle);
    expect(await aggregates(handle)).toEqual(incremental);
  });

  it('through the server: calls, a denial and a failure show in the figures as in the scan', async () => {
    const h = await startHarness();
    const client = await h.connect({ agent: 'svc' });
    for (let i = 0; i < 5; i++) await client.callTool({ name: 'echo', arguments: { text: `hi ${i}` } });
    h.executor.next = () => ({ ok: false, error: { code: 'trap', message: 'boom' }, durationMs: 3, memoryBytes: 0 });
    await client.callTool({ name: 'echo', arguments: { text: 'x' } });
    await client.callTool({ name: 'echo', arguments: { wrong: 1 } }); // rejected: invalid arguments
    const entries = await readAudit(h.ctx.db);
    const stats = await toolStats(h.ctx);
    expectToolStatsMatch(stats, statsFromAudit(entries, await (await h.ctx.db.get()).getAllKeys('tools')), true);
    expect(stats.find((s) => s.name === 'echo')).toMatchObject({ invocations: 6, ok: 5, errors: 1 });
    const [svc] = await agentMetrics(h.ctx, 'svc');
    expect(svc).toMatchObject({ calls: 6, ok: 5, errors: 1, denied: 1 });
    expect(svc).toMatchObject(metricsFromAudit(entries, 'svc')[0]!);
  });

  it('builds the aggregates of a log written before they existed once, on first use, then keeps them incrementally', async () => {
    const name = freshDbName();
    // A version-7 database with a log and no aggregates store.
    const v7 = await openStore(name, 7);
    const old: AuditEntry[] = [];
    for (let seq = 1; seq <= 2 * REBUILD_SLICE + 17; seq++) {
      const call = Math.ceil(seq / 2);
      const request = seq % 2 === 1;
      old.push({
        seq, ts: seq, event: request ? 'call.request' : 'call.result', sessionId: 's', agentId: `a${call % 3}`, callId: `c${call}`, tool: `t${call % 4}`, args: null,
        outcome: request ? 'pending' : call % 5 === 0 ? 'error' : 'ok', durationMs: request ? null : call % 50, memoryBytes: request ? null : call, error: null, details: null,
        ...(call % 7 === 0 ? { sealed: ['details' as const], details: { alg: 'AES-GCM-256', keyId: 'k', iv: 'x', data: 'y' } } : {}),
        prevHash: GENESIS_HASH, hash: 'h',
      });
    }
    const tx = v7.transaction('audit', 'readwrite');
    await Promise.all([...old.map((e) => tx.store.put(e)), tx.done]);
    v7.close();

    const handle = new CountingHandle(name);
    const db = await handle.get();
    expect(db.version).toBe(DB_VERSION);
    expect(await db.count('aggregates')).toBe(0);
    // An append before the first read leaves the aggregates to the rebuild (they would be partial).
    const log = new AuditLog(new DbHandle(name));
    await log.append({ event: 'call.request', outcome: 'pending', tool: 't1', agentId: 'a1', callId: 'late' });
    expect(await db.count('aggregates')).toBe(0);
    const all = await readAudit(handle);

    const ctx = statsContext(handle);
    handle.auditAccesses = 0;
    // Readers arriving together share one rebuild.
    const [first, again] = await Promise.all([toolStats(ctx), toolStats(ctx)]);
    // One rebuild: three slices in read transactions of their own (5,000, 5,000, 18), then the final transaction.
    expect(handle.auditAccesses).toBe(4);
    expect(again).toEqual(first);
    expectToolStatsMatch(first, statsFromAudit(all, []), true);
    handle.auditAccesses = 0;
    expect((await agentMetrics(ctx)).map(({ lastMinute: _l, active: _a, sessions: _s, ...m }) => m)).toEqual(metricsFromAudit(all));
    expect(handle.auditAccesses).toBe(0);

    // From then on, commits fold their entries in.
    await log.append({ event: 'call.result', outcome: 'denied', tool: 't1', agentId: 'a1', callId: 'late', durationMs: 12 });
    await log.append({ event: 'call.rejected', outcome: 'denied', tool: 't2', agentId: 'a2', callId: 'later' });
    await log.checkpoint();
    const now = await readAudit(handle);
    handle.auditAccesses = 0;
    expectToolStatsMatch(await toolStats(ctx), statsFromAudit(now, []), true);
    expect((await agentMetrics(ctx)).map(({ lastMinute: _l, active: _a, sessions: _s, ...m }) => m)).toEqual(metricsFromAudit(now));
    expect(handle.auditAccesses).toBe(0);
    const incremental = await aggregates(handle);
    expect(incremental.find((r) => r.kind === 'global')).toMatchObject({ seq: now.length, entries: now.length });
    await rebuildAggregates(handle);
    expect(await aggregates(handle)).toEqual(incremental);
  });

  it('adds the aggregates store at version 8 and keeps what version 7 held', async () => {
    const name = freshDbName();
    const v7 = await openStore(name, 7);
    expect([...v7.objectStoreNames]).not.toContain('aggregates');
    const entry = { seq: 1, ts: 1, event: 'admin', sessionId: null, agentId: null, callId: null, tool: null, args: null, outcome: 'info', durationMs: null, memoryBytes: null, error: null, details: null, prevHash: GENESIS_HASH, hash: 'h' } as const;
    await v7.put('audit', entry);
    await v7.put('workspace', { path: './workspace/a.txt', contents: 'kept', size: 4, modifiedMs: 1 });
    v7.close();
    const v8 = await openStore(name, 8);
    expect([...v8.objectStoreNames]).toContain('aggregates');
    expect(await v8.get('audit', 1)).toEqual(entry);
    expect(await v8.get('workspace', './workspace/a.txt')).toMatchObject({ contents: 'kept' });
    expect(await v8.count('aggregates')).toBe(0);
    v8.close();
  });

  it('are folded in memory between checkpoints: commits leave the store alone, every reader sees exact figures, and a log stopped without a checkpoint is continued exactly', async () => {
    const name = freshDbName();
    const handle = new DbHandle(name);
    const log = new AuditLog(handle);
    const call = (i: number) => [
      log.append({ event: 'call.request', outcome: 'pending', tool: `t${i % 3}`, agentId: `a${i % 2}`, callId: `c${i}` }),
      log.append({ event: 'call.result', outcome: i % 4 ? 'ok' : 'error', tool: `t${i % 3}`, agentId: `a${i % 2}`, callId: `c${i}`, durationMs: i }),
    ];
    await Promise.all(call(0));
    await log.checkpoint();
    const stored = await aggregates(handle);
    expect(stored.find((r) => r.kind === 'global')).toMatchObject({ seq: 2 });
    // Fewer entries than a checkpoint's worth: the aggregates store is not written by these commits.
    for (let i = 1; i < 20; i++) await Promise.all(call(i));
    expect(await aggregates(handle)).toEqual(stored);
    const entries = await readAudit(handle);
    expect(entries).toHaveLength(40);
    // Yet the log's own fold, and a reader that keeps none, see every entry.
    const liveCtx = { ...statsContext(handle), audit: log } as unknown as ServerContext;
    expectToolStatsMatch(await toolStats(liveCtx), statsFromAudit(entries, []), true);
    expect((await agentMetrics(liveCtx)).map(({ lastMinute: _l, active: _a, sessions: _s, ...m }) => m)).toEqual(metricsFromAudit(entries));
    expect(toolAggregatesOf(await readCaughtUp(new DbHandle(name)))).toEqual(toolAggregatesOf(await log.aggregates()));
    // A stop without a checkpoint (a service worker stopped): the next log starts from the stored
    // checkpoint and the entries after it, and lands exactly where a rebuild does.
    const next = new AuditLog(new DbHandle(name));
    for (let i = 20; i < 30; i++) await Promise.all(call(i));
    expect(await aggregates(handle)).toEqual(stored);
    await next.append({ event: 'call.rejected', outcome: 'denied', tool: 't1', agentId: 'a1', callId: 'late' });
    await log.settled();
    await next.checkpoint();
    const afterStop = await aggregates(handle);
    const all = await readAudit(handle);
    expect(afterStop.find((r) => r.kind === 'global')).toMatchObject({ seq: all.length, entries: all.length });
    await rebuildAggregates(handle);
    expect(await aggregates(handle)).toEqual(afterStop);
    // Past a checkpoint's worth of entries, a commit stores them itself.
    const third = new AuditLog(new DbHandle(name));
    for (let i = 0; i < AGGREGATE_CHECKPOINT + 2; i++) await third.append({ event: 'call.rejected', outcome: 'denied', tool: 't0', agentId: 'a0', callId: `r${i}` });
    const global = (await aggregates(handle)).find((r) => r.kind === 'global')!;
    expect(global.seq).toBeGreaterThan(all.length + AGGREGATE_CHECKPOINT - 2);
  });

  it('commits what is appended while a checkpoint is being written', async () => {
    const name = freshDbName();
    const log = new AuditLog(new DbHandle(name));
    await log.append({ event: 'call.request', outcome: 'pending', tool: 't0', agentId: 'a0', callId: 'c0' });
    const checkpoint = log.checkpoint();
    // Appended while the checkpoint's transaction runs: must not wait for a drain that never comes.
    const late = log.append({ event: 'call.result', outcome: 'ok', tool: 't0', agentId: 'a0', callId: 'c0', durationMs: 1 });
    await checkpoint;
    expect(await late).toMatchObject({ seq: 2, event: 'call.result' });
    await log.checkpoint();
    expect((await aggregates(new DbHandle(name))).find((r) => r.kind === 'global')).toMatchObject({ seq: 2, entries: 2 });
  });

  it('a damaged or outdated aggregate never fails a commit; the next reader rebuilds', async () => {
    const name = freshDbName();
    await randomCalls(name, 100, 3);
    const handle = new CountingHandle(name);
    const db = await handle.get();
    const echo = (await db.get('aggregates', ['tool', 'echo'])) as ToolAggregate;
    await db.put('aggregates', { ...echo, durations: null } as unknown as ToolAggregate);
    const log = new AuditLog(new DbHandle(name));
    await log.append({ event: 'call.result', outcome: 'ok', tool: 'echo', agentId: 'alpha', callId: 'x', durationMs: 5 });
    expect(await db.get('aggregates', ['global'])).toBeUndefined();
    const entries = await readAudit(handle);
    const ctx = statsContext(handle);
    expectToolStatsMatch(await toolStats(ctx), statsFromAudit(entries, []), true);
    // Aggregates of another format are rebuilt too.
    await db.put('aggregates', { key: ['global'], kind: 'global', format: AGGREGATE_FORMAT + 1, seq: entries.length, entries: entries.length });
    handle.auditAccesses = 0;
    expect((await agentMetrics(ctx)).map(({ lastMinute: _l, active: _a, sessions: _s, ...m }) => m)).toEqual(metricsFromAudit(entries));
    expect(handle.auditAccesses).toBeGreaterThan(0);
    expect(await db.get('aggregates', ['global'])).toMatchObject({ format: AGGREGATE_FORMAT, seq: entries.length });
  });

  it('reads percentiles from the histogram within its stated error', () => {
    const rnd = random(1);
    for (const spread of [0.1, 1, 3]) {
      const h = emptyHistogram();
      const values: number[] = [];
      for (let i = 0; i < 5000; i++) {
        const v = Math.exp(Math.log(30) + spread * Math.sqrt(-2 * Math.log(rnd() || 1e-9)) * Math.cos(2 * Math.PI * rnd()));
        values.push(v);
        addDuration(h, v);
      }
      for (const q of [0.01, 0.5, 0.9, 0.95, 0.99, 1]) expectWithinHistogramError(percentileMs(h, q), exactQuantile(values, q));
      expect(h.sumMs / h.count).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 9);
    }
    expect(PERCENTILE_RELATIVE_ERROR).toBeLessThan(0.011);
    expect(percentileMs(emptyHistogram(), 0.5)).toBeNull();
  });

  it('answers for 100,000 entries without reading the log', { timeout: 300_000 }, async () => {
    const name = freshDbName();
    const log = new AuditLog(new DbHandle(name), () => Date.now());
    const N = 100_000;
    const BATCH = 2_000;
    const seedStart = performance.now();
    for (let i = 0; i < N; i += BATCH) {
      const drafts: AuditDraft[] = [];
      for (let k = i; k < i + BATCH; k += 2) {
        const tool = TOOLS[(k >> 1) % TOOLS.length]!;
        const agentId = AGENTS[(k >> 1) % AGENTS.length]!;
        const callId = `c${k}`;
        drafts.push({ event: 'call.request', outcome: 'pending', tool, agentId, callId, sessionId: 's' });
        drafts.push({ event: 'call.result', outcome: k % 10 === 0 ? 'error' : 'ok', tool, agentId, callId, sessionId: 's', durationMs: (k % 997) / 8, memoryBytes: (k % 64) * 65536 });
      }
      await Promise.all(drafts.map((d) => log.append(d)));
    }
    await log.checkpoint();
    const seedMs = performance.now() - seedStart;

    const handle = new CountingHandle(name);
    const ctx = statsContext(handle);
    await (await handle.get()).getAllKeys('tools'); // open the database outside the timings
    handle.auditAccesses = 0;
    let t = performance.now();
    const stats = await toolStats(ctx);
    const toolStatsMs = performance.now() - t;
    t = performance.now();
    const metrics = await agentMetrics(ctx);
    const agentMetricsMs = performance.now() - t;
    t = performance.now();
    await toolStats(ctx, 'echo');
    await agentMetrics(ctx, 'alpha');
    const singleMs = performance.now() - t;
    expect(handle.auditAccesses).toBe(0);

    // What they did before: scan the whole log.
    t = performance.now();
    const entries = await readAudit(handle);
    const scanned = statsFromAudit(entries, []);
    const scannedMetrics = metricsFromAudit(entries);
    const scanMs = performance.now() - t;
    expect(handle.auditAccesses).toBeGreaterThan(0);
    expect(entries).toHaveLength(N);
    expectToolStatsMatch(stats, scanned, true);
    expect(metrics.map(({ lastMinute: _l, active: _a, sessions: _s, ...m }) => m)).toEqual(scannedMetrics);

    // A rebuild walks the log in slices while calls go on, and lands where the commits did.
    const incrementalBefore = await aggregates(handle);
    t = performance.now();
    const during = Promise.all(Array.from({ length: 50 }, (_, k) => log.append({ event: 'call.request', outcome: 'pending', tool: 'echo', agentId: 'late', callId: `late${k}` })));
    await rebuildAggregates(handle);
    const rebuildMs = performance.now() - t;
    await during;
    await log.checkpoint();
    const afterRebuild = await aggregates(handle);
    expect(afterRebuild.find((r) => r.kind === 'global')).toMatchObject({ seq: N + 50, entries: N + 50 });
    await rebuildAggregates(handle);
    expect(await aggregates(handle)).toEqual(afterRebuild);
    expect(incrementalBefore.length + 1).toBe(afterRebuild.length); // the agent `late`

    console.log(
      `100,000 entries: seeded in ${(seedMs / 1000).toFixed(1)} s (batches of ${BATCH}); ` +
        `toolStats ${toolStatsMs.toFixed(1)} ms, agentMetrics ${agentMetricsMs.toFixed(1)} ms, one tool + one agent ${singleMs.toFixed(1)} ms (0 audit reads); ` +
        `full scan as before ${scanMs.toFixed(0)} ms; rebuild ${rebuildMs.toFixed(0)} ms (fake-indexeddb under Node)`,
    );
  });
});

describe('argument shapes per agent', () => {
  it('keeps the most used, the same ones whatever order of equals, and never reads sealed arguments', async () => {
    const { countShape, shapeOfArgs, MAX_AGENT_SHAPES } = await import('../../src/store/aggregates');
    expect(shapeOfArgs({ text: 'a secret value' })).toBe(shapeOfArgs({ text: 'other' }));
    expect(shapeOfArgs({ text: 'a' })).not.toBe(shapeOfArgs({ text: 1 }));
    expect(shapeOfArgs({ alg: 'AES-GCM-256', keyId: 'k', iv: 'aaaa', data: 'bbbb' })).toBeNull();
    expect(shapeOfArgs(undefined)).toBeNull();
    const shapes: Record<string, number> = {};
    for (let i = 0; i < MAX_AGENT_SHAPES; i++) for (let k = 0; k <= i % 3; k++) countShape(shapes, `s${String(i).padStart(2, '0')}`);
    expect(Object.keys(shapes)).toHaveLength(MAX_AGENT_SHAPES);
    countShape(shapes, 'new-one');
    expect(Object.keys(shapes)).toHaveLength(MAX_AGENT_SHAPES);
    expect(shapes['new-one']).toBe(1);
    // The least used gave way, the greatest key among equals: s30 (used once; s27, s24… too, smaller).
    expect(shapes['s30']).toBeUndefined();
    expect(shapes['s27']).toBe(1);
  });
});
