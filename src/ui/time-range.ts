/**
 * The audit trail's time range: a preset relative to now (last 15 minutes, hour, day, week),
 * everything, or a custom from/to. Kept in the URL hash (`range=1h`, or
 * `range=custom&from=<ISO>&to=<ISO>`) and, as the default for the next visit, in localStorage.
 * Pure functions but the two that touch storage, so the rules are unit-tested.
 */

export type RangePreset = '15m' | '1h' | '24h' | '7d' | 'all' | 'custom';

export interface TimeRange {
  preset: RangePreset;
  /** Custom ranges only: ms since the epoch; absent means open on that side. */
  from?: number;
  to?: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const PRESETS: readonly { id: RangePreset; label: string; spanMs: number | null }[] = [
  { id: '15m', label: 'last 15 min', spanMs: 15 * MINUTE },
  { id: '1h', label: 'last hour', spanMs: HOUR },
  { id: '24h', label: 'last 24 h', spanMs: DAY },
  { id: '7d', label: 'last 7 days', spanMs: 7 * DAY },
  { id: 'all', label: 'all time', spanMs: null },
  { id: 'custom', label: 'custom…', spanMs: null },
];

export const ALL: TimeRange = { preset: 'all' };

const isPreset = (v: unknown): v is RangePreset => PRESETS.some((p) => p.id === v);
const time = (v: string | null): number | undefined => {
  if (!v) return undefined;
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  return Number.isFinite(n) ? n : undefined;
};

/** The bounds a range stands for at `now`: `from` inclusive, `to` exclusive; undefined: open. */
export function resolveRange(range: TimeRange, now: number): { from: number | undefined; to: number | undefined } {
  if (range.preset === 'custom') return { from: range.from, to: range.to };
  const span = PRESETS.find((p) => p.id === range.preset)?.spanMs ?? null;
  return span === null ? { from: undefined, to: undefined } : { from: now - span, to: undefined };
}

/** Whether the range filters anything at all. */
export const isBounded = (range: TimeRange): boolean => range.preset !== 'all' && !(range.preset === 'custom' && range.from === undefined && range.to === undefined);

/** The range named by a hash's query (`range`, `from`, `to`), or null when it names none (or nonsense). */
export function parseRange(query: URLSearchParams): TimeRange | null {
  const preset = query.get('range');
  if (!isPreset(preset)) return null;
  if (preset !== 'custom') return { preset };
  const from = time(query.get('from'));
  const to = time(query.get('to'));
  return { preset, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
}

/** The hash query pairs for a range; none for "all" (the default). */
export function rangeParams(range: TimeRange): [string, string][] {
  if (range.preset === 'all') return [];
  const pairs: [string, string][] = [['range', range.preset]];
  if (range.preset === 'custom') {
    if (range.from !== undefined) pairs.push(['from', new Date(range.from).toISOString()]);
    if (range.to !== undefined) pairs.push(['to', new Date(range.to).toISOString()]);
  }
  return pairs;
}

/** A short label: "last hour", "21:00 – 22:30". */
export function rangeLabel(range: TimeRange): string {
  if (range.preset !== 'custom') return PRESETS.find((p) => p.id === range.preset)!.label;
  const at = (t: number | undefined) => (t === undefined ? '…' : new Date(t).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' }));
  return `${at(range.from)} – ${at(range.to)}`;
}

/** "15 s", "1 min", "3 h", "1 day". */
export function bucketLabel(ms: number): string {
  if (ms < MINUTE) return `${ms / 1000} s`;
  if (ms < HOUR) return `${ms / MINUTE} min`;
  if (ms < DAY) return `${ms / HOUR} h`;
  return `${ms / DAY} day${ms === DAY ? '' : 's'}`;
}

/**
 * The window the charts ask for (`audit.chart`) for a range at `now`: the range's own bounds, an
 * open end being now; an open start stays open (null), which the aggregates answer from their
 * first finished call. The stored buckets and the display width are chosen by the service
 * worker (src/store/aggregate-window.ts, `chartPlan`).
 */
export function chartSpan(range: TimeRange, now: number): { from: number | null; to: number } {
  const { from, to } = resolveRange(range, now);
  const end = to ?? now;
  return { from: from ?? null, to: from !== undefined ? Math.max(end, from + 1) : end };
}

const KEY = 'mcp-sandbox.audit-range';

/** The range chosen last (this origin's localStorage), or "all". */
export function storedRange(): TimeRange {
  try {
    return parseRange(new URLSearchParams(localStorage.getItem(KEY) ?? '')) ?? ALL;
  } catch {
    return ALL;
  }
}

export function storeRange(range: TimeRange): void {
  try {
    localStorage.setItem(KEY, new URLSearchParams(rangeParams(range)).toString());
  } catch {
    // storage blocked: the range lasts as long as the hash
  }
}
