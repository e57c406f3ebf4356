import { describe, expect, test } from 'vitest';
import { checkRate, RATE_WINDOW_MS } from '../../../src/policy';
import { MINUTE, NOON, SECOND } from './fake-clock';

describe('sliding one-minute window', () => {
  test('the window is 60 s', () => {
    expect(RATE_WINDOW_MS).toBe(MINUTE);
  });

  test('events older than a minute do not count; an event exactly 60 s old has left', () => {
    const times = [NOON - MINUTE, NOON - MINUTE - 1, NOON - MINUTE + 1];
    expect(checkRate(times, 1, NOON)).toEqual({ allowed: false, count: 1, retryAfterMs: 1 });
    expect(checkRate(times.slice(0, 2), 1, NOON)).toEqual({ allowed: true, count: 0 });
  });

  test('there is no fixed-window boundary to exploit: calls late in one minute still count early in the next', () => {
    const times = [NOON - 2 * SECOND, NOON - SECOND]; // end of the previous "minute"
    expect(checkRate(times, 2, NOON + SECOND)).toMatchObject({ allowed: false, retryAfterMs: MINUTE - 3 * SECOND });
  });

  test('input order does not matter', () => {
    const times = [NOON - 5 * SECOND, NOON - 40 * SECOND, NOON - 20 * SECOND];
    expect(checkRate(times, 3, NOON)).toEqual({ allowed: false, count: 3, retryAfterMs: 20 * SECOND });
  });

  test('over the limit (the policy was tightened), the retry waits until enough calls have left', () => {
    const times = [1, 2, 3, 4, 5, 6, 7].map((s) => NOON - 60 * SECOND + s * SECOND);
    // Limit 5 with 7 in the window: 3 must leave; the 3rd oldest (NOON − 57 s) leaves in 3 s.
    expect(checkRate(times, 5, NOON)).toEqual({ allowed: false, count: 7, retryAfterMs: 3 * SECOND });
  });

  test('limit 0 never allows and gives no retry time', () => {
    expect(checkRate([], 0, NOON)).toEqual({ allowed: false, count: 0 });
  });

  test('a corrupt (NaN) time counts against the agent', () => {
    expect(checkRate([Number.NaN], 1, NOON)).toEqual({ allowed: false, count: 1 });
    expect(checkRate([Number.NaN, NOON - SECOND], 2, NOON)).toEqual({ allowed: false, count: 2, retryAfterMs: MINUTE - SECOND });
  });
});
