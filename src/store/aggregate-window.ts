import { BUCKET_RING, BUCKET_WIDTHS, BUCKETS_PER_OCTAVE, GLOBAL_KEY, isCurrent, readCaughtUp, PAIR_BUCKETS_PER_OCTAVE, PERCENTILE_RELATIVE_ERROR, PAIR_PERCENTILE_RELATIVE_ERROR, bucketKey, emptyFigures, isTimeBucket, mergeHistogram, percentileMs, type AggregateFold, type OutcomeFigures, type TimeBucket } from './aggregates';
import type { DbHandle } from './db';

/**
 * The audit charts' window, read from the time buckets of the aggregates (aggregates.ts) rather
 * than from any entries: finished calls per bucket by outcome and the durations' p50 and p95,
 * over the whole log however long, filtered by agent and tool when asked.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Stored buckets a window reads at most (but for "all time" over more days than this). */
export const MAX_BUCKET_READS = 400;
/** Points a chart shows at most: stored buckets are summed into display buckets of a width that fits. */
export const CHART_POINTS = 120;
/** Display widths, smallest first; each is used only over stored buckets it is a multiple of. */
const DISPLAY = [MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 30 * DAY];

export interface ChartPoint {
  /** Start of the display bucket (ms since the epoch). */
  start: number;
  ok: number;
  error: number;
  denied: number;
  /** Results with a duration, and their percentiles (null when none). */
  timed: number;
  p50Ms: number | null;
  p95Ms: number | null;
}

export interface ChartWindowData {
  /** The window asked for (an open start resolved to the first finished call). */
  from: number;
  to: number;
  /** What the points cover: whole display buckets from `start` to `end` (exclusive). */
  start: number;
  end: number;
  bucketMs: number;
  /** The width of the stored buckets read. */
  storedMs: number;
  points: ChartPoint[];
  /** How far p50Ms and p95Ms may be from the exact (nearest-rank) values, as a fraction: the histograms' resolution. */
  percentileError: number;
  /** Finished calls in the points. */
  total: number;
  /** Filtered by agent or tool, and some bucket of the window counted calls of pairs beyond MAX_BUCKET_PAIRS: the figures are a lower bound. */
  partial: boolean;
}

export interface ChartQuery {
  /** Start (ms, inclusive); absent: the first finished call the aggregates hold. */
  from?: number | null;
  to: number;
  agentId?: string;
  tool?: string;
}

/**
 * Which stored width to read and which display width to show for `[from, to)`, given the clock
 * of the aggregates (their newest finished call): the finest width that reads at most
 * MAX_BUCKET_READS buckets and whose ring still holds `from`, then the smallest display width (a
 * multiple of it) that gives at most CHART_POINTS points.
 */
export function chartPlan(from: number, to: number, clockTs: number | null): { storedMs: number; bucketMs: number; start: number; end: number } {
  const span = Math.max(1, to - from);
  const held = (w: number) => clockTs === null || from >= Math.floor(clockTs / w) * w - (BUCKET_RING[w]! - 1) * w;
  const storedMs = BUCKET_WIDTHS.find((w) => Math.ceil(span / w) <= MAX_BUCKET_READS && held(w)) ?? BUCKET_WIDTHS[BUCKET_WIDTHS.length - 1];
  const bucketMs = DISPLAY.find((d) => d % storedMs === 0 && Math.ceil(span / d) <= CHART_POINTS) ?? Math.ceil(span / CHART_POINTS / storedMs) * storedMs;
  return { storedMs, bucketMs, start: Math.floor(from / bucketMs) * bucketMs, end: Math.ceil(to / bucketMs) * bucketMs };
}

/** The figures of a bucket for the filter: the whole bucket, or the sum of its pairs that match. */
function figuresOf(b: TimeBucket, agentId: string | undefined, tool: string | undefined, parsed: Map<string, [unknown, unknown]>): OutcomeFigures {
  if (agentId === undefined && tool === undefined) return b;
  const sum = emptyFigures();
  for (const [key, f] of Object.entries(b.pairs)) {
    let pair = parsed.get(key);
    if (!pair) parsed.set(key, (pair = JSON.parse(key) as [unknown, unknown]));
    if ((agentId !== undefined && pair[0] !== agentId) || (tool !== undefined && pair[1] !== tool)) continue;
    sum.ok += f.ok;
    sum.error += f.error;
    sum.denied += f.denied;
    mergeHistogram(sum.durations, f.durations);
  }
  return sum;
}

/**
 * The chart's points for a window: the stored buckets of the chosen width in it (one read
 * transaction, a key range per stretch of the ring), with those the fold holds unstored laid
 * over them (taken once the read is done, so they are at least as new as what was read).
 */
export async function readChartWindow(handle: DbHandle, held: AggregateFold, query: ChartQuery): Promise<ChartWindowData> {
  // A fold kept by a log that another writer has since overtaken (a page that seeded the log,
  // say) would lay old open buckets over newer stored ones: the stored checkpoint, caught up, then.
  const stored = await (await handle.get()).get('aggregates', GLOBAL_KEY);
  const fold = isCurrent(stored) && stored.seq > held.global.seq ? await readCaughtUp(handle) : held;
  const to = query.to;
  const first = fold.global.sinceTs ?? to - HOUR;
  const from = Math.min(query.from ?? first, to - MINUTE);
  const plan = chartPlan(from, to, fold.global.clockTs);
  const { storedMs: w, bucketMs, start, end } = plan;
  const ring = BUCKET_RING[w]!;
  // The stored buckets from the one holding `from` to the one holding `to - 1`, by slot.
  const firstStart = Math.floor(start / w) * w;
  const count = Math.min(ring, Math.ceil((end - firstStart) / w));
  const lo = bucketKey(w, firstStart)[2];
  const hi = lo + count - 1;
  const ranges = hi < ring ? [[lo, hi]] : [[lo, ring - 1], [0, hi - ring]];
  const tx = (await handle.get()).transaction('aggregates');
  const read = await Promise.all(ranges.map(([a, b]) => tx.store.getAll(IDBKeyRange.bound(['time', w, a], ['time', w, b]))));
  const buckets = new Map<number, TimeBucket>();
  for (const r of read.flat() as unknown[]) if (isTimeBucket(r) && r.widthMs === w && r.start >= start && r.start < end) buckets.set(r.start, r);
  for (const b of fold.unstoredBuckets()) if (b.widthMs === w && b.start >= start && b.start < end) buckets.set(b.start, b);

  const points: ChartPoint[] = [];
  const sums: OutcomeFigures[] = [];
  for (let t = start; t < end; t += bucketMs) {
    points.push({ start: t, ok: 0, error: 0, denied: 0, timed: 0, p50Ms: null, p95Ms: null });
    sums.push(emptyFigures());
  }
  const filtered = query.agentId !== undefined || query.tool !== undefined;
  // A filtered window sums its pairs, whose histograms are coarser than the buckets' own.
  const perOctave = filtered ? PAIR_BUCKETS_PER_OCTAVE : BUCKETS_PER_OCTAVE;
  const parsed = new Map<string, [unknown, unknown]>();
  let partial = false;
  let total = 0;
  for (const b of buckets.values()) {
    const i = Math.floor((b.start - start) / bucketMs);
    const f = figuresOf(b, query.agentId, query.tool, parsed);
    const s = sums[i]!;
    s.ok += f.ok;
    s.error += f.error;
    s.denied += f.denied;
    mergeHistogram(s.durations, f.durations);
    total += f.ok + f.error + f.denied;
    if (filtered && b.unattributed > 0) partial = true;
  }
  sums.forEach((s, i) => {
    const p = points[i]!;
    Object.assign(p, { ok: s.ok, error: s.error, denied: s.denied, timed: s.durations.count, p50Ms: percentileMs(s.durations, 0.5, perOctave), p95Ms: percentileMs(s.durations, 0.95, perOctave) });
  });
  return { from, to, start, end, bucketMs, storedMs: w, points, percentileError: filtered ? PAIR_PERCENTILE_RELATIVE_ERROR : PERCENTILE_RELATIVE_ERROR, total, partial };
}

