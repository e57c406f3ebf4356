// Time in these tests is just numbers: an ISO instant turned into epoch ms, and offsets.
import type { CallState } from '../../../src/policy';

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

export function at(iso: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`bad instant ${iso}`);
  return ms;
}

/** A noon on a quiet day, outside every template's quiet hours. */
export const NOON = at('2024-06-12T12:00:00Z');

/** A fresh session that has just started at `now`, with nothing running. */
export function idleState(now: number, overrides: Partial<CallState> = {}): CallState {
  return {
    recentCallTimes: [],
    sessionCallCount: 0,
    sessionStartedAt: now,
    sessionLastActivityAt: now,
    agentActiveCalls: 0,
    globalActiveCalls: 0,
    globalConcurrentLimit: 100,
    ...overrides,
  };
}
