import { describe, expect, test } from 'vitest';
import { checkRate, RATE_WINDOW_MS, RateWindow } from '../../../src/policy';
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

describe('RateWindow: the server\'s ascending window gives checkRate\'s answers without scanning', () => {
  test('same count and retryAfterMs as checkRate over a long random history, at every step', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const window = new RateWindow();
    const times: number[] = [];
    let now = NOON;
    for (let i = 0; i < 5000; i++) {
      now += Math.floor(random() * 40);
      const limit = 1 + Math.floor(random() * 200);
      expect(window.check(limit, now)).toEqual(checkRate(times, limit, now));
      if (random() < 0.9) {
        window.push(now);
        times.push(now);
      }
    }
    expect(window.count(now)).toBe(checkRate(times, Infinity, now).count);
  });

  test('a time taken back no longer counts; a time out of order is placed in order', () => {
    const w = new RateWindow([NOON - 3 * SECOND, NOON - SECOND]);
    w.push(NOON - 2 * SECOND);
    expect(w.check(3, NOON)).toEqual(checkRate([NOON - 3 * SECOND, NOON - 2 * SECOND, NOON - SECOND], 3, NOON));
    w.remove(NOON - 2 * SECOND);
    expect(w.count(NOON)).toBe(2);
  });

  test('a corrupt time counts against the agent and gives no retry time', () => {
    const w = new RateWindow([Number.NaN]);
    expect(w.check(1, NOON)).toEqual({ allowed: false, count: 1 });
  });

  test('drops what has left the window: a history of 100,000 calls holds only the last minute', () => {
    const w = new RateWindow();
    for (let i = 0; i < 100_000; i++) {
      w.push(NOON + i * 10);
      w.check(1_000_000, NOON + i * 10);
    }
    expect(w.count(NOON + 99_999 * 10)).toBe(6000);
    expect((w as unknown as { times: number[] }).times.length).toBeLessThan(6000 * 2 + 1100);
  });
});
