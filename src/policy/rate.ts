// Sliding-window rate limits. A window is "the last 60 s before now": a time t counts
// while now - t < 60 000, and leaves the window at exactly t + 60 000. Fixed windows
// would let an agent spend two windows' worth in the second around a boundary.

export const RATE_WINDOW_MS = 60_000;

export type RateCheck =
  | { readonly allowed: true; readonly count: number }
  /** `retryAfterMs` is absent when the limit is 0: waiting never helps. */
  | { readonly allowed: false; readonly count: number; readonly retryAfterMs?: number };

/**
 * May one more event happen at `now`, given the times of earlier ones (any order)?
 * Times that are not finite count as inside the window: a corrupt record must not buy
 * extra calls.
 */
export function checkRate(times: readonly number[] | RateWindow, limit: number, now: number, windowMs = RATE_WINDOW_MS): RateCheck {
  if (times instanceof RateWindow) return times.check(limit, now, windowMs);
  const inWindow = times.filter((t) => !(now - t >= windowMs));
  const count = inWindow.length;
  if (count < limit) return { allowed: true, count };
  if (!(limit > 0)) return { allowed: false, count };
  // To get below the limit, the (count - limit + 1) oldest events must leave the window.
  const finite = inWindow.filter(Number.isFinite).sort((a, b) => a - b);
  const leaving = finite[count - limit];
  if (leaving === undefined) return { allowed: false, count };
  return { allowed: false, count, retryAfterMs: leaving + windowMs - now };
}

/** "retry in 12.4 s" (rounded up, so the agent never retries too early), or "retry later". */
export function retryHint(ms: number | undefined): string {
  return ms === undefined ? 'retry later' : `retry in ${Math.ceil(ms / 100) / 10} s`;
}

/**
 * The times of one agent's granted events, kept ascending, for the server's counters: a check
 * costs O(log n) and a push O(1) amortised, whatever the history, where scanning an array per
 * call grew with every call in the window. Gives exactly the answers `checkRate` gives for the
 * same times (same count, same `retryAfterMs`).
 *
 * Invariants:
 * - `times[head..]` are the live entries, ascending; everything before `head` has left the
 *   window of some earlier check and is never looked at again.
 * - Times are pushed in the order they happen (callers use one clock); a time earlier than the
 *   newest is placed in order, so a clock step backwards cannot hide an event.
 */
export class RateWindow {
  private times: number[] = [];
  private head = 0;

  constructor(initial: Iterable<number> = []) {
    for (const t of initial) this.push(t);
  }

  push(t: number): void {
    // A corrupt time must not buy extra calls: it counts as now-ish, never as long ago.
    const time = Number.isFinite(t) ? t : Number.MAX_SAFE_INTEGER;
    const n = this.times.length;
    if (n === this.head || this.times[n - 1]! <= time) {
      this.times.push(time);
      return;
    }
    let i = n;
    while (i > this.head && this.times[i - 1]! > time) i--;
    this.times.splice(i, 0, time);
  }

  /** Takes back one event at `t` (a reservation that was not used). */
  remove(t: number): void {
    const i = this.times.lastIndexOf(t);
    if (i >= this.head) this.times.splice(i, 1);
  }

  /** Events inside the window ending at `now`. */
  count(now: number, windowMs = RATE_WINDOW_MS): number {
    return this.times.length - this.start(now, windowMs);
  }

  check(limit: number, now: number, windowMs = RATE_WINDOW_MS): RateCheck {
    const first = this.start(now, windowMs);
    const count = this.times.length - first;
    if (count < limit) return { allowed: true, count };
    if (!(limit > 0)) return { allowed: false, count };
    const leaving = this.times[first + count - limit]!;
    if (leaving === Number.MAX_SAFE_INTEGER) return { allowed: false, count };
    return { allowed: false, count, retryAfterMs: leaving + windowMs - now };
  }

  /** The index of the first live time; drops what has left, compacting now and then. */
  private start(now: number, windowMs: number): number {
    // Binary search for the first t with now - t < windowMs.
    let lo = this.head;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (now - this.times[mid]! >= windowMs) lo = mid + 1;
      else hi = mid;
    }
    this.head = lo;
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
      return 0;
    }
    return lo;
  }
}
