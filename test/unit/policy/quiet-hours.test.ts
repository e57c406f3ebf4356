import { describe, expect, test } from 'vitest';
import { decideToolCall, isQuietTime, msUntilQuietEnds, resolvePolicy, type QuietHours } from '../../../src/policy';
import { at, HOUR, idleState, MINUTE } from './fake-clock';

const utcNight: QuietHours = { start: '22:00', end: '06:00', timeZone: 'UTC' };
const NOON_UTC = at('2024-06-12T12:00:00Z');
const newYorkNight: QuietHours = { start: '22:00', end: '06:00', timeZone: 'America/New_York' };

describe('quiet hours across midnight in UTC', () => {
  test.each([
    ['2024-06-12T21:59:59.999Z', false],
    ['2024-06-12T22:00:00.000Z', true],
    ['2024-06-12T23:59:59.999Z', true],
    ['2024-06-13T00:00:00.000Z', true],
    ['2024-06-13T05:59:59.999Z', true],
    ['2024-06-13T06:00:00.000Z', false],
    ['2024-06-13T12:00:00.000Z', false],
  ])('at %s quiet is %s', (iso, quiet) => {
    expect(isQuietTime(utcNight, at(iso))).toBe(quiet);
  });

  test('a window that does not cross midnight is [start, end)', () => {
    const lunch: QuietHours = { start: '12:00', end: '13:30', timeZone: 'UTC' };
    expect(isQuietTime(lunch, at('2024-06-12T11:59:00Z'))).toBe(false);
    expect(isQuietTime(lunch, at('2024-06-12T12:00:00Z'))).toBe(true);
    expect(isQuietTime(lunch, at('2024-06-12T13:29:59Z'))).toBe(true);
    expect(isQuietTime(lunch, at('2024-06-12T13:30:00Z'))).toBe(false);
  });

  test('retryAfterMs is the exact time until the window ends', () => {
    expect(msUntilQuietEnds(utcNight, at('2024-06-12T23:30:00Z'))).toBe(6.5 * HOUR);
    expect(msUntilQuietEnds(utcNight, at('2024-06-13T05:59:59.999Z'))).toBe(1);
    expect(msUntilQuietEnds(utcNight, at('2024-06-12T22:00:00Z'))).toBe(8 * HOUR);
  });
});

describe('quiet hours in America/New_York', () => {
  test('in winter (EST, UTC−5) they run 03:00–11:00 UTC', () => {
    expect(isQuietTime(newYorkNight, at('2024-01-15T02:59:59Z'))).toBe(false);
    expect(isQuietTime(newYorkNight, at('2024-01-15T03:00:00Z'))).toBe(true);
    expect(isQuietTime(newYorkNight, at('2024-01-15T10:59:59Z'))).toBe(true);
    expect(isQuietTime(newYorkNight, at('2024-01-15T11:00:00Z'))).toBe(false);
  });

  test('in summer (EDT, UTC−4) they run 02:00–10:00 UTC', () => {
    expect(isQuietTime(newYorkNight, at('2024-07-01T01:59:59Z'))).toBe(false);
    expect(isQuietTime(newYorkNight, at('2024-07-01T02:00:00Z'))).toBe(true);
    expect(isQuietTime(newYorkNight, at('2024-07-01T09:59:59Z'))).toBe(true);
    expect(isQuietTime(newYorkNight, at('2024-07-01T10:00:00Z'))).toBe(false);
  });

  test('on the spring-forward night (2024-03-10) the window is 7 real hours, and retryAfterMs says so', () => {
    const start = at('2024-03-10T03:00:00Z'); // 22:00 EST on the 9th
    const end = at('2024-03-10T10:00:00Z'); // 06:00 EDT on the 10th
    expect(isQuietTime(newYorkNight, start)).toBe(true);
    expect(isQuietTime(newYorkNight, end - 1)).toBe(true);
    expect(isQuietTime(newYorkNight, end)).toBe(false);
    expect(msUntilQuietEnds(newYorkNight, start)).toBe(7 * HOUR);
  });

  test('on the fall-back night (2024-11-03) the window is 9 real hours', () => {
    const start = at('2024-11-03T02:00:00Z'); // 22:00 EDT on the 2nd
    expect(isQuietTime(newYorkNight, start)).toBe(true);
    expect(isQuietTime(newYorkNight, at('2024-11-03T10:59:59Z'))).toBe(true);
    expect(isQuietTime(newYorkNight, at('2024-11-03T11:00:00Z'))).toBe(false);
    expect(msUntilQuietEnds(newYorkNight, start)).toBe(9 * HOUR);
  });

  test('a window ending inside the skipped hour ends when the clocks jump (02:00 EST → 03:00 EDT)', () => {
    const early: QuietHours = { start: '01:00', end: '02:30', timeZone: 'America/New_York' };
    const now = at('2024-03-10T06:30:00Z'); // 01:30 EST
    expect(isQuietTime(early, now)).toBe(true);
    expect(msUntilQuietEnds(early, now)).toBe(30 * MINUTE); // 07:00Z = 03:00 EDT
  });
});

describe('quiet hours in decideToolCall', () => {
  const limited = resolvePolicy('Limited'); // 22:00–06:00 UTC

  test('a call during quiet hours is denied by quiet-hours, with when to retry', () => {
    const now = at('2024-06-12T23:15:00Z');
    expect(decideToolCall(limited, { tool: 'read_file' }, idleState(now), now)).toEqual({
      allow: false,
      rule: 'quiet-hours',
      reason: 'No calls are allowed during quiet hours (22:00–06:00 UTC, session.quietHours); retry after 06:00 UTC.',
      limit: '22:00–06:00 UTC',
      observed: '23:15',
      retryAfterMs: 6 * HOUR + 45 * MINUTE,
    });
  });

  test('the same call in the day is allowed', () => {
    const now = at('2024-06-12T21:59:00Z');
    expect(decideToolCall(limited, { tool: 'read_file' }, idleState(now), now).allow).toBe(true);
  });

  test('quietHours null (refined away) allows the call at night', () => {
    const p = resolvePolicy('Limited', { version: 1, session: { quietHours: null } });
    const now = at('2024-06-12T23:15:00Z');
    expect(decideToolCall(p, { tool: 'read_file' }, idleState(now), now).allow).toBe(true);
  });

  test("the policy's own time zone is used, not the host's", () => {
    const p = resolvePolicy('Limited', { version: 1, session: { quietHours: newYorkNight } });
    const now = at('2024-06-12T23:15:00Z'); // 19:15 in New York
    expect(decideToolCall(p, { tool: 'read_file' }, idleState(now), now).allow).toBe(true);
    const later = at('2024-06-13T03:00:00Z'); // 23:00 in New York
    expect(decideToolCall(p, { tool: 'read_file' }, idleState(later), later)).toMatchObject({
      rule: 'quiet-hours',
      observed: '23:00',
      retryAfterMs: 7 * HOUR,
    });
  });

  test('quiet hours that cannot be evaluated (a policy built in code with a bad zone) deny rather than throw', () => {
    const base = resolvePolicy('Limited');
    const p = { ...base, session: { ...base.session, quietHours: { start: '22:00', end: '06:00', timeZone: 'Nowhere/Land' } } };
    expect(decideToolCall(p, { tool: 'read_file' }, idleState(NOON_UTC), NOON_UTC)).toEqual({
      allow: false,
      rule: 'quiet-hours',
      reason: "The quiet hours cannot be evaluated: its time zone 'Nowhere/Land' is not known; fix session.quietHours to allow calls again.",
    });
  });
});
