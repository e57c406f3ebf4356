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
export function checkRate(times: readonly number[], limit: number, now: number, windowMs = RATE_WINDOW_MS): RateCheck {
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
