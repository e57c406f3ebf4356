import { argumentShape, shapeHash } from '../shared/shape';
import type { DbHandle } from './db';
import { isSealed } from './sealing';
import type { AgentAggregate, AggregateKey, AggregateRecord, AuditEntry, DurationHistogram, GlobalAggregate, OutcomeFigures, TimeBucket, TimeBucketKey, ToolAggregate } from './schema';

export type { OutcomeFigures, TimeBucket } from './schema';

/**
 * Aggregates of the audit log, kept beside it in the `aggregates` store so that tool statistics
 * and agent metrics are read, not scanned for: one global record (what has been folded in), one
 * record per tool and one per agent.
 *
 * Invariants:
 * - They change only in the transaction that commits the entries they fold in (`foldCommitted`,
 *   called by `AuditLog.commit`): they commit or abort with those entries, never apart.
 * - A writer keeps the fold it last committed in memory and writes the changed records blind, so
 *   a call reads nothing. It may only while nobody else has extended the chain since its last
 *   commit, which the batch's own `add`s prove (a taken `seq` aborts the transaction); any
 *   other time it reads the whole store in the committing transaction and folds on from it.
 *   IndexedDB runs read-write transactions whose scopes overlap one at a time, so another
 *   writer (another context's AuditLog, a rebuild) never interleaves: each starts from what the
 *   last one committed, and nothing is lost or counted twice. A rebuild stores exactly what the
 *   incremental fold holds (a test proves the two equal), so a kept fold stays true across one.
 * - The global record names the last `seq` folded in. A commit folds its entries only if they
 *   continue from it; otherwise (no aggregates yet: a log written before they existed; or
 *   aggregates of another format) it leaves them to a rebuild, which readers start on first use.
 * - Only fields that are never sealed are read (event, outcome, tool, agentId, durationMs,
 *   memoryBytes, ts), so sealed entries count like any other; `args` is read for its shape
 *   only where it is not sealed.
 * - Time buckets (`TimeBucket`, keys ['time', width, slot]) count finished calls per minute,
 *   10 minutes, hour and day, with their durations, for the audit charts. They are opened in
 *   time order only (an entry stamped before the newest time folded counts at that time), so a
 *   fold holds one open bucket per width and writes it blind; each width is a ring of slots
 *   (BUCKET_RING), so a new bucket takes the place of the one a ring's span older and storage
 *   stays bounded with no deletes. A reader skips a slot whose `start` is not the one it wants.
 */

/** The folding rules' version. Change it with the rules: stored aggregates of another are rebuilt. */
export const AGGREGATE_FORMAT = 3;
/** Argument shapes kept per agent; beyond them the least used (then the greatest hash) gives way. */
export const MAX_AGENT_SHAPES = 32;

/** Histogram buckets per doubling of the duration. */
export const BUCKETS_PER_OCTAVE = 32;
/** Durations below this (1/1024 ms, under a microsecond) share one bucket. */
export const HISTOGRAM_FLOOR_MS = 2 ** -10;
/** The bucket of durations under the floor (and of any below zero). */
export const UNDERFLOW_BUCKET = Math.log2(HISTOGRAM_FLOOR_MS) * BUCKETS_PER_OCTAVE - 1;
/**
 * A percentile read from the histogram is within this fraction of the exact (nearest-rank)
 * value, about 1.09 %: the value lies in the bucket found, and the bucket's geometric middle is
 * returned. Below the floor, within HISTOGRAM_FLOOR_MS instead.
 */
export const PERCENTILE_RELATIVE_ERROR = 2 ** (1 / (2 * BUCKETS_PER_OCTAVE)) - 1;

/** Audit records read per slice by a rebuild, each slice in a short transaction of its own. */
export const REBUILD_SLICE = 5_000;

export const GLOBAL_KEY: ['global'] = ['global'];

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Every tool record: keys ['tool', name]; an array sorts after every string. */
const toolRange = () => IDBKeyRange.bound(['tool'], ['tool', []]);
const agentRange = () => IDBKeyRange.bound(['agent'], ['agent', []]);

export function emptyHistogram(): DurationHistogram {
  return { count: 0, sumMs: 0, minMs: null, maxMs: null, buckets: {} };
}

/** The underflow bucket of a histogram of `perOctave` buckets an octave. */
const underflowOf = (perOctave: number): number => Math.log2(HISTOGRAM_FLOOR_MS) * perOctave - 1;

/**
 * Buckets per octave of the histograms kept per agent and tool pair in time buckets: coarser
 * (a percentile within PAIR_PERCENTILE_RELATIVE_ERROR, about 9 %) so that a bucket of 32 pairs
 * stays a few KB. A fine bucket `b` is coarse bucket ⌊b / 8⌋ (the underflow buckets too).
 */
export const PAIR_BUCKETS_PER_OCTAVE = 4;
export const PAIR_PERCENTILE_RELATIVE_ERROR = 2 ** (1 / (2 * PAIR_BUCKETS_PER_OCTAVE)) - 1;

export function bucketOf(ms: number): number {
  return ms >= HISTOGRAM_FLOOR_MS ? Math.floor(Math.log2(ms) * BUCKETS_PER_OCTAVE) : UNDERFLOW_BUCKET;
}

export function addDuration(h: DurationHistogram, ms: number, b = bucketOf(ms)): void {
  h.count++;
  h.sumMs += ms;
  h.minMs = h.minMs === null ? ms : Math.min(h.minMs, ms);
  h.maxMs = h.maxMs === null ? ms : Math.max(h.maxMs, ms);
  h.buckets[b] = (h.buckets[b] ?? 0) + 1;
}

/**
 * The `q` quantile (0 < q ≤ 1) by nearest rank, as `statsFromAudit` takes it from the sorted
 * durations (rank ⌈q·n⌉), within PERCENTILE_RELATIVE_ERROR; null when there are none.
 */
export function percentileMs(h: DurationHistogram, q: number, perOctave = BUCKETS_PER_OCTAVE): number | null {
  if (h.count <= 0 || h.minMs === null || h.maxMs === null) return null;
  const rank = Math.min(h.count, Math.max(1, Math.ceil(q * h.count)));
  const buckets = Object.keys(h.buckets)
    .map(Number)
    .sort((a, b) => a - b);
  let seen = 0;
  for (const b of buckets) {
    seen += h.buckets[b] ?? 0;
    if (seen >= rank) {
      const middle = b === underflowOf(perOctave) ? 0 : 2 ** ((b + 0.5) / perOctave);
      // The exact value lies in [min, max]: clamping only brings the estimate closer.
      return Math.min(h.maxMs, Math.max(h.minMs, middle));
    }
  }
  return h.maxMs;
}

export function emptyGlobal(): TimedGlobal {
  return { key: ['global'], kind: 'global', format: AGGREGATE_FORMAT, seq: 0, entries: 0, clockTs: null, sinceTs: null };
}

/** Adds `from` into `into` (a histogram of both). */
export function mergeHistogram(into: DurationHistogram, from: DurationHistogram): void {
  into.count += from.count;
  into.sumMs += from.sumMs;
  if (from.minMs !== null) into.minMs = into.minMs === null ? from.minMs : Math.min(into.minMs, from.minMs);
  if (from.maxMs !== null) into.maxMs = into.maxMs === null ? from.maxMs : Math.max(into.maxMs, from.maxMs);
  for (const [b, n] of Object.entries(from.buckets)) into.buckets[b] = (into.buckets[b] ?? 0) + n;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** The widths time buckets are kept at, finest first. */
export const BUCKET_WIDTHS = [MINUTE, 10 * MINUTE, HOUR, DAY] as const;
/**
 * Slots per width (the storage bound): minutes for 3 days, 10 minutes for 14 days, hours for
 * 92 days, days for 10 years; 12,684 records at most (a few hundred bytes each when calls are
 * few, a few KB when many agents and tools share a bucket).
 */
export const BUCKET_RING: Readonly<Record<number, number>> = { [MINUTE]: 3 * 24 * 60, [10 * MINUTE]: 14 * 24 * 6, [HOUR]: 92 * 24, [DAY]: 3660 };
/** Agent and tool pairs broken down per bucket at most; the finished calls of any further pair are counted in `unattributed`. */
export const MAX_BUCKET_PAIRS = 32;

/** The global record as this format keeps it: the time buckets' clock besides. */
export interface TimedGlobal extends GlobalAggregate {
  /** The newest `ts` of a finished call folded: the time the open buckets stand at. Null before one. */
  clockTs: number | null;
  /** The `ts` of the first finished call folded (where "all time" starts). */
  sinceTs: number | null;
}

/** Finished calls by outcome, as the audit charts class them, and the durations of the results. */
export type StoredAggregate = AggregateRecord | TimeBucket;

export const emptyFigures = (): OutcomeFigures => ({ ok: 0, error: 0, denied: 0, durations: emptyHistogram() });

/** A pair's key in `TimeBucket.pairs`: JSON of [agentId, tool] (either null). */
export const pairKey = (agentId: string | null, tool: string | null): string => JSON.stringify([agentId, tool]);

/** Where a bucket of `widthMs` starting at `start` is kept: its slot of the width's ring. */
export function bucketKey(widthMs: number, start: number): TimeBucketKey {
  const ring = BUCKET_RING[widthMs]!;
  return ['time', widthMs, (((start / widthMs) % ring) + ring) % ring];
}

const isFigures = (f: unknown): f is OutcomeFigures => {
  const x = f as Partial<OutcomeFigures> | null;
  return typeof x === 'object' && x !== null && finite(x.ok) && finite(x.error) && finite(x.denied) && typeof x.durations === 'object' && x.durations !== null && typeof x.durations.buckets === 'object' && x.durations.buckets !== null;
};

/** A time bucket as this format stores it (storage anyone with the origin can write: a damaged one is no bucket). */
export const isTimeBucket = (r: unknown): r is TimeBucket => {
  if (!isFigures(r)) return false;
  const b = r as Partial<TimeBucket>;
  return b.kind === 'time' && finite(b.widthMs) && finite(b.start) && typeof b.pairs === 'object' && b.pairs !== null && Object.values(b.pairs).every(isFigures) && finite(b.unattributed) && finite(b.pairCount);
};

/**
 * The outcome a finished call had, exactly as the audit charts class entries (audit-charts.ts):
 * a result ok, denied, or else an error (cancelled included); a refusal denied; an interruption
 * an error. Null for entries that are not a call's end.
 */
export function finishedOutcome(event: unknown, outcome: unknown): 'ok' | 'error' | 'denied' | null {
  if (event === 'call.result') return outcome === 'ok' ? 'ok' : outcome === 'denied' ? 'denied' : 'error';
  if (event === 'call.rejected') return 'denied';
  if (event === 'call.interrupted') return 'error';
  return null;
}

/** Counts a finished call; `bucket` is `bucketOf(durationMs)`, taken once for the eight histograms a call goes into. */
function addFinished(f: OutcomeFigures, outcome: 'ok' | 'error' | 'denied', durationMs: number | null, bucket: number): void {
  f[outcome]++;
  if (durationMs !== null) addDuration(f.durations, durationMs, bucket);
}

/** A global record this code can continue from. */
export function isCurrent(global: unknown): global is TimedGlobal {
  const g = global as Partial<TimedGlobal> | null | undefined;
  return typeof g === 'object' && g !== null && g.kind === 'global' && g.format === AGGREGATE_FORMAT && Number.isSafeInteger(g.seq) && typeof g.entries === 'number' && (g.clockTs === null || finite(g.clockTs));
}

const TOOL_EVENTS = new Set<unknown>(['call.request', 'call.result', 'call.interrupted']);

/** The tool an audit record counts for, if any. Records are taken as unknown (storage anyone with the origin can write). */
function toolOf(r: Record<string, unknown>): string | null {
  return typeof r['tool'] === 'string' && r['tool'] !== '' && TOOL_EVENTS.has(r['event']) ? r['tool'] : null;
}

function agentOf(r: Record<string, unknown>): string | null {
  return typeof r['agentId'] === 'string' && r['agentId'] !== '' ? r['agentId'] : null;
}

/** The shape hash of a request's arguments, or null where they are absent or sealed at rest. */
export function shapeOfArgs(args: unknown): string | null {
  return args === undefined || isSealed(args) ? null : shapeHash(argumentShape(args));
}

/**
 * Counts `shape`, keeping the MAX_AGENT_SHAPES most used: a new shape beyond them takes the place
 * of the least used (the greatest hash among equals), so the same entries always keep the same.
 */
export function countShape(shapes: Record<string, number>, shape: string): void {
  if (shape in shapes || Object.keys(shapes).length < MAX_AGENT_SHAPES) {
    shapes[shape] = (shapes[shape] ?? 0) + 1;
    return;
  }
  let evict: string | null = null;
  for (const [k, n] of Object.entries(shapes)) if (evict === null || n < shapes[evict]! || (n === shapes[evict] && k > evict)) evict = k;
  delete shapes[evict!];
  shapes[shape] = 1;
}

/**
 * Folds audit records, in `seq` order, into aggregates: the same rules for a commit (starting
 * from the stored records it changes) and for a rebuild (starting from nothing), so the two agree
 * exactly. Mirrors what `statsFromAudit` (tool-stats.ts) and `metricsFromAudit` (metrics.ts)
 * compute from a scan.
 */
export class AggregateFold {
  readonly tools = new Map<string, ToolAggregate>();
  readonly agents = new Map<string, AgentAggregate>();
  /** The open time bucket of each width (the one `global.clockTs` falls in). */
  private readonly open = new Map<number, TimeBucket>();
  /** A rebuild's fold keeps every bucket, by slot (what it stores); a commit's only the open ones. */
  private readonly kept: Map<string, TimeBucket> | null;
  private readonly changed = new Set<ToolAggregate | AgentAggregate | TimeBucket>();

  constructor(
    readonly global: TimedGlobal,
    keepAllBuckets = false,
  ) {
    this.kept = keepAllBuckets ? new Map() : null;
  }

  /** A stored record the next entries continue. */
  adopt(record: StoredAggregate): void {
    if (typeof record !== 'object' || record === null) return;
    if (record.kind === 'tool') this.tools.set(record.name, record);
    else if (record.kind === 'agent') this.agents.set(record.agentId, record);
    else if (record.kind === 'time' && this.global.clockTs !== null && record.start === Math.floor(this.global.clockTs / record.widthMs) * record.widthMs) this.open.set(record.widthMs, record);
  }

  /**
   * The time buckets this fold holds that the store may not (changed since the last checkpoint,
   * and the open ones): laid over the stored ones, they give the buckets through the newest entry.
   */
  unstoredBuckets(): TimeBucket[] {
    return [...new Set([...[...this.changed].filter(isTimeBucket), ...this.open.values()])];
  }

  fold(seq: number, record: unknown): void {
    this.global.seq = seq;
    this.global.entries++;
    if (typeof record !== 'object' || record === null) return;
    const r = record as Record<string, unknown>;
    const { event, outcome, ts, durationMs, memoryBytes } = r;
    const name = toolOf(r);
    if (name !== null) {
      const t = this.tool(name, seq);
      if (event === 'call.request') {
        t.invocations++;
        if (typeof ts === 'number') t.lastUsedAt = Math.max(t.lastUsedAt ?? 0, ts);
      } else if (event === 'call.result') {
        t.results++;
        if (outcome === 'ok') t.ok++;
        else if (outcome === 'denied') t.denied++;
        else if (outcome === 'cancelled') t.cancelled++;
        else t.errors++;
        if (finite(durationMs)) addDuration(t.durations, durationMs);
        if (finite(memoryBytes)) t.peakMemoryBytes = Math.max(t.peakMemoryBytes ?? 0, memoryBytes);
      } else t.interrupted++;
    }
    const agentId = agentOf(r);
    if (agentId !== null) {
      const a = this.agent(agentId, seq);
      if (event === 'call.request') {
        a.calls++;
        if (typeof ts === 'number') a.lastCallAt = Math.max(a.lastCallAt ?? 0, ts);
        if (typeof r['tool'] === 'string' && r['tool'] !== '') a.tools[r['tool']] = (a.tools[r['tool']] ?? 0) + 1;
        const shape = shapeOfArgs(r['args']);
        if (shape !== null) countShape(a.shapes, shape);
      } else if (event === 'call.result') {
        // A call whose tool was refused a capability ends `denied`: counted with the denials.
        if (outcome === 'ok') a.ok++;
        else if (outcome === 'denied') a.denied++;
        else if (outcome === 'cancelled') a.cancelled++;
        else a.errors++;
        a.durationSumMs += finite(durationMs) ? durationMs : 0;
        a.durationCount++;
      } else if (event === 'call.rejected') {
        a.denied++;
        a.rejected++;
      } else if (event === 'call.interrupted') a.interrupted++;
    }
    const finished = finishedOutcome(event, outcome);
    if (finished !== null && finite(ts)) this.foldTime(finished, ts, event === 'call.result' && finite(durationMs) ? durationMs : null, agentId, typeof r['tool'] === 'string' && r['tool'] !== '' ? r['tool'] : null);
  }

  /**
   * Counts a finished call in the bucket of each width that holds the clock: its `ts`, or the
   * newest folded before it if that is later (buckets open in time order only). O(1): four
   * buckets, one pair each.
   */
  private foldTime(outcome: 'ok' | 'error' | 'denied', ts: number, durationMs: number | null, agentId: string | null, tool: string | null): void {
    const g = this.global;
    const at = g.clockTs === null ? ts : Math.max(g.clockTs, ts);
    g.clockTs = at;
    g.sinceTs ??= ts;
    const pair = pairKey(agentId, tool);
    const h = durationMs === null ? 0 : bucketOf(durationMs);
    const coarse = Math.floor(h / (BUCKETS_PER_OCTAVE / PAIR_BUCKETS_PER_OCTAVE));
    for (const w of BUCKET_WIDTHS) {
      const b = this.bucket(w, Math.floor(at / w) * w);
      addFinished(b, outcome, durationMs, h);
      let p = b.pairs[pair];
      if (!p && b.pairCount < MAX_BUCKET_PAIRS) {
        p = b.pairs[pair] = emptyFigures();
        b.pairCount++;
      }
      if (p) addFinished(p, outcome, durationMs, coarse);
      else b.unattributed++;
      this.changed.add(b);
    }
  }

  /** The open bucket of width `w` starting at `start` (never before the open one): a new one replaces it, and its slot's last. */
  private bucket(w: number, start: number): TimeBucket {
    const open = this.open.get(w);
    if (open && open.start === start) return open;
    const b: TimeBucket = { key: bucketKey(w, start), kind: 'time', widthMs: w, start, ok: 0, error: 0, denied: 0, durations: emptyHistogram(), pairs: {}, pairCount: 0, unattributed: 0 };
    this.open.set(w, b);
    this.kept?.set(JSON.stringify(b.key), b);
    return b;
  }

  /** The records changed since the last call (the global one first); what a commit writes. */
  takeChanged(): StoredAggregate[] {
    const changed = [this.global, ...this.changed];
    this.changed.clear();
    return changed;
  }

  /** Every record: what a rebuild stores. */
  allRecords(): StoredAggregate[] {
    return [this.global, ...this.tools.values(), ...this.agents.values(), ...(this.kept?.values() ?? [])];
  }

  private tool(name: string, seq: number): ToolAggregate {
    let t = this.tools.get(name);
    if (!t) {
      t = { key: ['tool', name], kind: 'tool', name, firstSeq: seq, seq, invocations: 0, results: 0, ok: 0, errors: 0, denied: 0, cancelled: 0, interrupted: 0, durations: emptyHistogram(), peakMemoryBytes: null, lastUsedAt: null };
      this.tools.set(name, t);
    }
    t.seq = seq;
    this.changed.add(t);
    return t;
  }

  private agent(agentId: string, seq: number): AgentAggregate {
    let a = this.agents.get(agentId);
    if (!a) {
      a = { key: ['agent', agentId], kind: 'agent', agentId, firstSeq: seq, seq, calls: 0, ok: 0, errors: 0, denied: 0, rejected: 0, cancelled: 0, interrupted: 0, durationSumMs: 0, durationCount: 0, lastCallAt: null, tools: {}, shapes: {} };
      this.agents.set(agentId, a);
    }
    a.seq = seq;
    this.changed.add(a);
    return a;
  }
}

/** The stores of the read-write transaction that commits entries: only IndexedDB requests are made on them. */
export interface AggregateStore {
  get(key: AggregateKey): Promise<StoredAggregate | undefined>;
  getAll(query: IDBKeyRange): Promise<StoredAggregate[]>;
  put(value: StoredAggregate): Promise<unknown>;
  delete(key: AggregateKey): Promise<unknown>;
  clear(): Promise<unknown>;
}
export type AuditSlices = Parameters<typeof foldSlice>[0];

/**
 * The stored checkpoint a fold continues: the global record, every tool and agent record, and
 * the open time buckets (three requests, then one per width): never the closed buckets.
 * `damaged` when an open bucket the global record implies is not there as a bucket of its time
 * (the checkpoint writes them together): such aggregates are rebuilt, as a damaged record is.
 */
async function readCheckpoint(store: Pick<AggregateStore, 'get' | 'getAll'>): Promise<{ global: StoredAggregate | undefined; records: StoredAggregate[]; damaged: boolean }> {
  const [global, tools, agents] = await Promise.all([store.get(GLOBAL_KEY), store.getAll(toolRange()), store.getAll(agentRange())]);
  const records: StoredAggregate[] = [...tools, ...agents];
  let damaged = false;
  if (isCurrent(global) && global.clockTs !== null) {
    const clock = global.clockTs;
    const starts = BUCKET_WIDTHS.map((w) => Math.floor(clock / w) * w);
    const open: unknown[] = await Promise.all(BUCKET_WIDTHS.map((w, i) => store.get(bucketKey(w, starts[i]!))));
    open.forEach((b, i) => (isTimeBucket(b) && b.widthMs === BUCKET_WIDTHS[i] && b.start === starts[i] ? records.push(b) : (damaged = true)));
  }
  return { global, records, damaged };
}

/** Entries folded in memory since the aggregates were last stored, at most, before a commit stores them. */
export const AGGREGATE_CHECKPOINT = 128;

/**
 * Folds entries being committed into the aggregates, inside their transaction (AuditLog.commit),
 * and returns the fold that stands once it commits (null when the entries were left unfolded).
 * Awaits nothing but IndexedDB requests.
 *
 * `known` is that fold as the caller last committed it, through the entry just before the batch
 * (the caller vouches for it: its own commit put it there and nobody extended the chain since,
 * which the batch's `add`s prove by not failing). Without it, the whole store is read (one
 * request; a record per tool and agent), entries stored since its checkpoint are read from the
 * log and folded, and the batch is folded on from there. Either way the records changed since the
 * last checkpoint are written (the caller decides when: `AuditLog` every AGGREGATE_CHECKPOINT
 * entries and when idle), and the global record names the last entry they include.
 *
 * Entries that do not continue the stored aggregates are not folded: with none yet (a log
 * from before they existed, or a rebuild under way) they are left as they are, and stale ones
 * (another format) lose their global record; either way the next reader rebuilds. A fold that
 * throws (a stored record someone damaged) does the same rather than fail the commit: the audit
 * entry matters, the figures can be recomputed. The caller must drop `known` if the transaction
 * aborts: the fold mutates its records in place.
 */
export async function foldCommitted(store: AggregateStore, audit: AuditSlices, entries: readonly AuditEntry[], known: AggregateFold | null = null): Promise<AggregateFold | null> {
  if (entries.length === 0) return known;
  const first = entries[0]!.seq;
  let fold: AggregateFold;
  try {
    if (known && known.global.seq === first - 1) fold = known;
    else {
      const { global, records, damaged } = await readCheckpoint(store);
      if (damaged) throw new Error('a damaged time bucket');
      if (isCurrent(global) && global.seq < first) {
        fold = await fromCheckpoint(global, records, audit, first - 1);
        if (fold.global.seq !== first - 1) throw new Error('the log has a gap before the batch');
      } else if (global === undefined && first === 1) {
        // A new log: the aggregates start with it (and nothing left from an earlier one counts).
        await store.clear();
        fold = new AggregateFold(emptyGlobal());
      } else {
        if (global !== undefined) await store.delete(GLOBAL_KEY);
        return null;
      }
    }
    for (const entry of entries) fold.fold(entry.seq, entry);
  } catch {
    await store.delete(GLOBAL_KEY);
    return null;
  }
  await Promise.all(fold.takeChanged().map((r) => store.put(r)));
  return fold;
}

/**
 * Brings the stored aggregates up to the newest entry, inside a read-write transaction over the
 * aggregates and the log: the stored checkpoint, the entries after it folded in, the records they
 * changed written back. Null (nothing written) when there is no current checkpoint to continue.
 */
export async function catchUpStored(store: AggregateStore, audit: AuditSlices): Promise<AggregateFold | null> {
  const { global, records, damaged } = await readCheckpoint(store);
  if (!isCurrent(global)) return null;
  if (damaged) {
    await store.delete(GLOBAL_KEY);
    return null;
  }
  let fold: AggregateFold;
  try {
    fold = await fromCheckpoint(global, records, audit);
  } catch {
    await store.delete(GLOBAL_KEY);
    return null;
  }
  await Promise.all(fold.takeChanged().map((r) => store.put(r)));
  return fold;
}

/**
 * The aggregates through the newest entry, for a reader that keeps no fold of its own: the stored
 * checkpoint (rebuilt first if there is none current) and the entries after it, from the log, in
 * one read transaction.
 */
export async function readCaughtUp(handle: DbHandle): Promise<AggregateFold> {
  for (let attempt = 0; ; attempt++) {
    const db = await handle.get();
    const tx = db.transaction(['aggregates', 'audit']);
    const { global, records, damaged } = await readCheckpoint(tx.objectStore('aggregates'));
    if (isCurrent(global) && !damaged) return fromCheckpoint(global, records, tx.objectStore('audit'));
    // After one rebuild, whatever is there is the answer: a reader never loops on rebuilds.
    if (attempt > 0) return fromCheckpoint(emptyGlobal(), records, null);
    await buildOnce(handle);
  }
}

/**
 * A stored checkpoint (its global record and the records beside it) continued with the log's
 * entries after it, through `through` (the newest without one; none without a log to read).
 */
async function fromCheckpoint(global: TimedGlobal, records: readonly StoredAggregate[], audit: AuditSlices | null, through = Infinity): Promise<AggregateFold> {
  const fold = new AggregateFold({ ...global });
  for (const record of records) fold.adopt(record);
  // A short slice is the end of what there is to read.
  while (audit && fold.global.seq < through) if ((await foldSlice(audit, fold, fold.global.seq, through)) < REBUILD_SLICE) break;
  return fold;
}

/** Reads the audit records after `after` (at most one slice), folds them; how many there were. */
async function foldSlice(
  store: { getAll(query: IDBKeyRange, count: number): Promise<unknown[]>; getAllKeys(query: IDBKeyRange, count: number): Promise<IDBValidKey[]> },
  fold: AggregateFold,
  after: number,
  through = Infinity,
): Promise<number> {
  // Numeric keys only: the audit is keyed by `seq`; a store re-created without its key path (as
  // devtools can) may hold other keys, which are no entries' and are not counted.
  const range = IDBKeyRange.bound(after, through, true, false);
  const [values, keys] = await Promise.all([store.getAll(range, REBUILD_SLICE), store.getAllKeys(range, REBUILD_SLICE)]);
  keys.forEach((key, i) => fold.fold(key as number, values[i]));
  return keys.length;
}

/**
 * Recomputes the aggregates from the audit log and stores them in place of what was there.
 * Walks the log in slices of REBUILD_SLICE (each a short read transaction of its own, so calls
 * go on meanwhile), then, in one read-write transaction over the log and the aggregates, folds
 * what was appended during the walk and replaces the stored records. Commits serialize with that
 * transaction: those before it are in what it read, those after it continue from its records.
 */
export async function rebuildAggregates(handle: DbHandle): Promise<GlobalAggregate> {
  const db = await handle.get();
  const fold = new AggregateFold(emptyGlobal(), true);
  let read: number;
  do read = await foldSlice(db.transaction('audit').store, fold, fold.global.seq);
  while (read === REBUILD_SLICE);
  const tx = db.transaction(['audit', 'aggregates'], 'readwrite');
  const audit = tx.objectStore('audit');
  do read = await foldSlice(audit, fold, fold.global.seq);
  while (read === REBUILD_SLICE);
  const store = tx.objectStore('aggregates');
  await Promise.all([store.clear(), ...fold.allRecords().map((r) => store.put(r)), tx.done]);
  return fold.global;
}

const building = new WeakMap<DbHandle, Promise<GlobalAggregate>>();

/** One rebuild at a time per handle: readers arriving during one wait for it. */
function buildOnce(handle: DbHandle): Promise<GlobalAggregate> {
  let p = building.get(handle);
  if (!p) {
    p = rebuildAggregates(handle).finally(() => building.delete(handle));
    building.set(handle, p);
  }
  return p;
}

/**
 * Reads aggregates (never the audit log), after rebuilding them once if there are none yet (a
 * log from before they existed) or they are of another format.
 */
async function readAggregates<T extends AggregateRecord>(handle: DbHandle, kind: 'tool' | 'agent', id: string | undefined): Promise<T[]> {
  for (let attempt = 0; ; attempt++) {
    const db = await handle.get();
    const tx = db.transaction('aggregates');
    const [global, records] = await Promise.all([tx.store.get(GLOBAL_KEY), id === undefined ? tx.store.getAll(kind === 'tool' ? toolRange() : agentRange()) : tx.store.get([kind, id] as AggregateKey).then((r) => (r ? [r] : []))]);
    // After one rebuild, whatever is there is the answer: a reader never loops on rebuilds.
    if (isCurrent(global) || attempt > 0) return records.filter((r): r is T => r.kind === kind);
    await buildOnce(handle);
  }
}

/** The tool records of a fold (or the named tool's), as stored records: copies a caller may keep. */
export function toolAggregatesOf(fold: AggregateFold, name?: string): ToolAggregate[] {
  const records = name === undefined ? [...fold.tools.values()] : [fold.tools.get(name)].filter((t): t is ToolAggregate => t !== undefined);
  return structuredClone(records);
}

/** The agent records of a fold (or the named agent's), as stored records. */
export function agentAggregatesOf(fold: AggregateFold, agentId?: string): AgentAggregate[] {
  const records = agentId === undefined ? [...fold.agents.values()] : [fold.agents.get(agentId)].filter((a): a is AgentAggregate => a !== undefined);
  return structuredClone(records);
}

/** Every tool's aggregate, or the named tool's (none if it never ran). */
export const readToolAggregates = (handle: DbHandle, name?: string): Promise<ToolAggregate[]> => readAggregates<ToolAggregate>(handle, 'tool', name);

/** Every agent's aggregate, or the named agent's (none if no entry names it). */
export const readAgentAggregates = (handle: DbHandle, agentId?: string): Promise<AgentAggregate[]> => readAggregates<AgentAggregate>(handle, 'agent', agentId);
